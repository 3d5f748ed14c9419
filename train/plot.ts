/**
 * Draws the training curves (loss, and train / validation accuracy per epoch)
 * as a self-contained SVG, with no plotting library.
 *
 * @module
 */

/** One epoch's figures. */
export interface EpochStats {
  /** 1-based epoch. */
  epoch: number;
  /** Mean training loss. */
  loss: number;
  /** Training accuracy (0..1), measured on the augmented batches as they were trained. */
  trainAccuracy: number;
  /** Accuracy on the validation digits (0..1), carved from the training part. */
  validationAccuracy: number;
}

const W = 360, H = 220, M = { l: 52, r: 14, t: 30, b: 36 };

function panel(
  x0: number,
  title: string,
  series: { name: string; color: string; values: number[] }[],
  epochs: number[],
  yFmt: (v: number) => string,
  range?: [number, number],
  legendBottom = false,
): string {
  const all = series.flatMap((s) => s.values);
  let [lo, hi] = range ?? [Math.min(...all), Math.max(...all)];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const pw = W - M.l - M.r, ph = H - M.t - M.b;
  const sx = (e: number) =>
    x0 + M.l +
    (epochs.length > 1 ? ((e - epochs[0]!) / (epochs.at(-1)! - epochs[0]!)) * pw : pw / 2);
  const sy = (v: number) => M.t + ph - ((v - lo) / (hi - lo)) * ph;
  const parts = [
    `<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`,
    `<rect x="${x0 + M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4, y = sy(v);
    parts.push(
      `<line x1="${x0 + M.l}" x2="${x0 + M.l + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`,
      `<text x="${x0 + M.l - 6}" y="${y + 4}" text-anchor="end">${yFmt(v)}</text>`,
    );
  }
  const step = Math.max(1, Math.ceil(epochs.length / 8));
  for (let i = 0; i < epochs.length; i += step) {
    parts.push(
      `<text x="${sx(epochs[i]!)}" y="${H - M.b + 16}" text-anchor="middle">${epochs[i]}</text>`,
    );
  }
  parts.push(`<text x="${x0 + M.l + pw / 2}" y="${H - 4}" text-anchor="middle">epoch</text>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => `${sx(epochs[i]!).toFixed(1)},${sy(v).toFixed(1)}`).join(
      " ",
    );
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of pts.split(" ")) {
      const [cx, cy] = p.split(",");
      parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
    }
    const lx = legendBottom ? x0 + M.l + pw - 130 : x0 + M.l + 10;
    const ly = legendBottom ? M.t + ph - 10 - (series.length - 1 - k) * 16 : M.t + 14 + k * 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${
        ly - 4
      }" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 22}" y="${ly}">${s.name}</text>`,
    );
  });
  return parts.join("\n");
}

/** Renders both panels side by side. */
export function trainingSvg(stats: EpochStats[], subtitle = ""): string {
  const epochs = stats.map((s) => s.epoch);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const accs = stats.flatMap((s) => [s.trainAccuracy, s.validationAccuracy]);
  const lo = Math.max(0, Math.floor(Math.min(...accs) * 50) / 50);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${
    H + 20
  }" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${
    panel(
      0,
      "training loss",
      [{ name: "loss", color: "#d62728", values: stats.map((s) => s.loss) }],
      epochs,
      (v) => v.toFixed(3),
    )
  }
${
    panel(
      W,
      "accuracy",
      [
        { name: "train (augmented)", color: "#1f77b4", values: stats.map((s) => s.trainAccuracy) },
        {
          name: "validation",
          color: "#2ca02c",
          values: stats.map((s) => s.validationAccuracy),
        },
      ],
      epochs,
      pct,
      [lo, 1],
      true,
    )
  }
<text x="${W}" y="${H + 14}" text-anchor="middle" fill="#555">${subtitle}</text>
</svg>
`;
}
