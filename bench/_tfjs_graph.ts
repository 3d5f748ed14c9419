/**
 * One of our graph models, run by TensorFlow.js with its fused ops
 * (`tf.fused.conv2d` / `depthwiseConv2d` / `matMul` with bias and ReLU or
 * ReLU6 in one call, as XNNPACK runs them): the same architecture and the
 * same weights, for a side-by-side timing (and the outputs are compared, so
 * the peer surely computes the same network). Covers the layer kinds of the
 * CNNs torchvision exports that have no SiLU, HardSwish or squeeze-and-excite:
 * Conv2D (plain or depthwise), Dense, Add, ReLU, ReLU6, pooling, Flatten,
 * Concatenate.
 *
 * @module
 */

import type { Model } from "../mod.ts";
import { tf } from "./_tfjs.ts";

type Act = "linear" | "relu" | "relu6";
type Pad = [[number, number], [number, number], [number, number], [number, number]];

/** A TF.js function computing `model` (NHWC in, NHWC or [N, F] out), or why it cannot. */
export function tfjsGraph(model: Model): ((x: tf.Tensor4D) => tf.Tensor) | string {
  const cfg = model.config();
  if (!("format" in cfg)) return "not a graph model";
  const w = model.getWeights();
  const t = (name: string, shape?: number[]) => {
    const v = w[name]!;
    return tf.tensor(v.data, (shape ?? v.shape) as number[]);
  };
  const steps: ((ins: tf.Tensor[]) => tf.Tensor)[] = [];
  for (const node of cfg.nodes) {
    const l = cfg.layers.find((c) => c.name === node.layer)!;
    const o = l as Record<string, unknown>;
    const act = ((o["activation"] as Act | undefined) ?? "linear") as Act;
    const fusedAct = act;
    const pair = (v: unknown): [number, number] =>
      typeof v === "number" ? [v, v] : (v as [number, number]);
    const pad = (p: unknown): Pad | "same" | "valid" => {
      if (p === "same" || p === "valid") return p;
      const q = typeof p === "number" ? [p, p, p, p] : (p as number[]);
      const [a, b, c, d] = q.length === 2 ? [q[0], q[0], q[1], q[1]] : q;
      return [[0, 0], [a!, b!], [c!, d!], [0, 0]];
    };
    switch (l.kind) {
      case "Conv2D": {
        const [kH, kW] = pair(o["kernelSize"]);
        const groups = (o["groups"] as number | undefined) ?? 1, filters = o["filters"] as number;
        const stride = pair(o["stride"] ?? 1), dil = pair(o["dilation"] ?? 1);
        const bias = t(`${l.name}.bias`);
        if (groups === 1) {
          const k = t(`${l.name}.kernel`);
          steps.push(([x]) =>
            tf.fused.conv2d({
              x: x as tf.Tensor4D,
              filter: k as tf.Tensor4D,
              strides: stride,
              pad: pad(o["padding"] ?? "valid") as "same",
              dilations: dil,
              bias,
              activation: fusedAct,
            })
          );
        } else if (groups === filters) {
          // Ours [kH, kW, 1, C] is TF.js's depthwise [kH, kW, C, 1] in memory.
          const k = t(`${l.name}.kernel`, [kH, kW, filters, 1]);
          steps.push(([x]) =>
            tf.fused.depthwiseConv2d({
              x: x as tf.Tensor4D,
              filter: k as tf.Tensor4D,
              strides: stride,
              pad: pad(o["padding"] ?? "valid") as "same",
              dilations: dil,
              bias,
              activation: fusedAct,
            })
          );
        } else return `a grouped convolution (${groups} groups) in "${l.name}"`;
        break;
      }
      case "Dense": {
        const k = t(`${l.name}.kernel`), bias = t(`${l.name}.bias`);
        steps.push(([x]) =>
          tf.fused.matMul({ a: x as tf.Tensor2D, b: k as tf.Tensor2D, bias, activation: fusedAct })
        );
        break;
      }
      case "Add":
        steps.push((xs) => {
          const s = tf.addN(xs);
          return act === "relu" ? tf.relu(s) : s;
        });
        break;
      case "ReLU":
        steps.push(([x]) => tf.relu(x!));
        break;
      case "ReLU6":
        steps.push(([x]) => tf.relu6(x!));
        break;
      case "GlobalAvgPool2D":
        steps.push(([x]) => tf.mean(x!, [1, 2], o["keepDims"] as boolean));
        break;
      case "MaxPool2D":
      case "AvgPool2D": {
        const [kH, kW] = pair(o["poolSize"] ?? 2);
        if (o["ceilMode"] || (l.kind === "AvgPool2D" && !o["countIncludePad"])) {
          const p = pad(o["padding"] ?? "valid");
          if (
            o["ceilMode"] || (typeof p === "string" ? p === "same" : p.flat().some((v) => v !== 0))
          ) {
            return `a pooling TF.js cannot match in "${l.name}"`;
          }
        }
        const f = l.kind === "MaxPool2D" ? tf.maxPool : tf.avgPool;
        const p = pad(o["padding"] ?? "valid"), st = pair(o["stride"] ?? [kH, kW]);
        steps.push(([x]) => f(x as tf.Tensor4D, [kH, kW], st, p as "same"));
        break;
      }
      case "Flatten":
        steps.push(([x]) => tf.reshape(x!, [x!.shape[0]!, -1]));
        break;
      case "Concatenate":
        steps.push((xs) => tf.concat(xs, -1));
        break;
      default:
        return `layer kind ${l.kind} ("${l.name}")`;
    }
  }
  return (x) =>
    tf.tidy(() => {
      const outs: tf.Tensor[] = [];
      cfg.nodes.forEach((
        n,
        k,
      ) => (outs[k] = steps[k]!(n.inputs.map((i) => (i < 0 ? x : outs[i]!)))));
      return outs[cfg.output]!;
    });
}
