// This module is browser compatible.

import { markChanged, withKeptWeights } from "../core/_versions.ts";
import { firstNonFinite } from "../core/_math.ts";
import type { Tensor } from "../core/tensor.ts";
import { sizeOf } from "../core/tensor.ts";
import { checkSeed, mulberry32 } from "../core/random.ts";
import {
  checkBoolean,
  checkDims,
  checkFloat32Array,
  checkNonNegativeInt,
  checkObject,
  checkOptions,
  checkPositiveInt,
  checkTensorData,
  fail,
} from "../core/_validate.ts";
import { type GraphNode, isMerge, SymbolicTensor, who } from "../layers/graph_node.ts";
import type { Layer, LayerConfig, MergeLayer, Param, SampleShape } from "../layers/layer.ts";
import { checkUnowned, claimLayers, nameLayers, withParamBudget } from "../layers/_util.ts";
import { hooks, type TrailingSoftmax } from "./_hooks.ts";
import { activeKernels, withMemoryFloor } from "../backend/select.ts";
import { ArenaAbort, FirstFit, regionBytes } from "../backend/_arena.ts";
import { OutputPool, type OutputSource, withOutputPool } from "../core/_outputs.ts";

/** Options of {@linkcode Model} and `Sequential`. */
export interface ModelOptions {
  /** Seed of the initial weights, an integer in [0, 2^32); the same seed gives bit-identical weights. Default 1. */
  seed?: number;
  /**
   * The most parameters the layers may hold in all (default 2^28); a larger
   * architecture fails at construction, before allocating. `loadModel` sets
   * it to what the file's data can fill.
   */
  maxParameters?: number;
}

/** A graph model's architecture, as model files store it. */
export interface GraphConfig {
  /** `"graph"`: tells it from a `Sequential`'s `{ inputShape, layers }`. */
  readonly format: "graph";
  /** The graph format's version (2). */
  readonly version: number;
  /** One sample's input shape. */
  readonly inputShape: SampleShape;
  /** Every layer once, in the order of its first use. */
  readonly layers: readonly LayerConfig[];
  /** The nodes in order: a layer (by name) and its inputs (-1: the model's input; k: node k's output). */
  readonly nodes: readonly { readonly layer: string; readonly inputs: readonly number[] }[];
  /** The node whose output is the model's output. */
  readonly output: number;
}

/** One row of {@linkcode Model.layerSummary}. */
export interface LayerSummary {
  /** The layer's name. */
  readonly name: string;
  /** Its kind. */
  readonly kind: string;
  /** Its output shape for one sample. */
  readonly outputShape: SampleShape;
  /** How many trainable numbers it holds (0 where a shared layer is used again). */
  readonly params: number;
  /** The layers (or `"input"`) whose outputs it takes. */
  readonly inputs: readonly string[];
}

type AnyLayer = Layer | MergeLayer;

/**
 * A model as a directed acyclic graph of layers (the functional API, as
 * Keras's): start from {@linkcode Input}, `apply` layers to symbolic tensors
 * (merge layers such as `Add` and `Concatenate` take several), and make a
 * model of an input and an output. Shapes are checked as the graph is built;
 * the constructor names unnamed layers, initialises the weights from a seed
 * and checks that no layer belongs to another model. A layer applied at
 * several nodes shares its weights, and its gradients from every use add up.
 * `Sequential` is the simple case of the same machinery.
 *
 * @example Usage
 * ```ts
 * import { Add, Conv2D, Dense, Flatten, Input, Model, ReLU, tensor } from "@convnet/wasm";
 * const x = Input([8, 8, 4]);
 * const h = new Conv2D({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(x);
 * const r = new ReLU().apply(new Add().apply([x, h])); // a residual connection
 * const y = new Dense({ units: 3 }).apply(new Flatten().apply(r));
 * const model = new Model({ inputs: x, outputs: y }, { seed: 7 });
 * model.predict(tensor(new Float32Array(2 * 256), [2, 8, 8, 4])).shape; // [2, 3]
 * ```
 */
export class Model {
  /** Every layer once, in the order of its first use. */
  readonly layers: readonly (Layer | MergeLayer)[];
  /** The graph's nodes in execution order. */
  readonly nodes: readonly GraphNode[];
  /** One sample's input shape. */
  readonly inputShape: SampleShape;
  /** One sample's output shape. */
  readonly outputShape: SampleShape;
  /** Free-form strings kept with the model in its file (e.g. its held-out accuracy). */
  metadata: Record<string, string> = {};
  readonly #input: SymbolicTensor;
  readonly #output: SymbolicTensor;
  readonly #uses = new Map<AnyLayer, number>();
  #values: Map<number, Tensor> | null = null;
  #training = false;
  /** `predict`'s reusable outputs, and the index of each value's last reader. */
  #pool: OutputPool | null = null;
  #lastRead: Map<number, number> | null = null;
  /** For each node, the values given back after it runs (see `#freedAt`). */
  #frees: number[][] | null = null;
  /** `#memoryNeed`, once: it depends on the shapes alone, fixed when the model is built. */
  #need: number | undefined;
  /** The arena's size for the last batch size (see `#arenaBytes`). */
  #arenaHint: { m: number; bytes: number } | null = null;

  /**
   * Creates a Model.
   *
   * @param spec `inputs`: the graph's input (from `Input`); `outputs`: the symbolic output.
   * @param options The weight seed and the parameter cap.
   * @throws {TypeError} If an argument is of the wrong kind.
   * @throws {RangeError} If the output does not depend on the input alone, a shared layer gets
   * different shapes, names repeat, or a layer already belongs to another model.
   */
  constructor(
    spec: {
      inputs: SymbolicTensor | readonly [SymbolicTensor];
      outputs: SymbolicTensor | readonly [SymbolicTensor];
    },
    options: ModelOptions = {},
  ) {
    const fn = new.target.name === "Sequential" ? "Sequential" : "Model";
    const sp = checkOptions(fn, "spec", spec, ["inputs", "outputs"]);
    const one = (v: unknown, arg: string): SymbolicTensor => {
      const t = Array.isArray(v) && v.length === 1 ? v[0] : v;
      if (!(t instanceof SymbolicTensor)) {
        fail(TypeError, fn, arg, "a symbolic tensor (one; several are not supported yet)", v);
      }
      return t;
    };
    const input = one(sp["inputs"], "spec.inputs"), output = one(sp["outputs"], "spec.outputs");
    if (input.node) {
      throw new RangeError(`${fn}: spec.inputs must come from Input(), not from a layer`);
    }
    const o = checkOptions(fn, "options", options, ["seed", "maxParameters"]);
    const seed = checkSeed(fn, "options.seed", o["seed"] ?? 1);
    const maxParameters = o["maxParameters"] === undefined
      ? 2 ** 28
      : checkNonNegativeInt(fn, "options.maxParameters", o["maxParameters"]);

    // The nodes the output depends on, in creation order (a topological order).
    const found = new Map<SymbolicTensor, GraphNode>();
    const stack = [output];
    while (stack.length) {
      const t = stack.pop()!;
      if (t === input || found.has(t)) continue;
      if (!t.node) {
        throw new RangeError(
          `${fn}: the output depends on an Input([${t.shape.join(", ")}]) that is not spec.inputs`,
        );
      }
      found.set(t, t.node);
      stack.push(...t.node.inputs);
    }
    if (output === input) throw new RangeError(`${fn}: the graph has no layer`);
    const nodes = [...found.values()].sort((a, b) => a.output.id - b.output.id);
    const layers: AnyLayer[] = [];
    for (const n of nodes) {
      this.#uses.set(n.layer, (this.#uses.get(n.layer) ?? 0) + 1);
      if (this.#uses.get(n.layer) === 1) layers.push(n.layer);
    }
    checkUnowned(fn, layers);
    nameLayers(fn, layers);
    for (const l of layers) {
      if (this.#uses.get(l)! > 1 && "setTraining" in l) {
        throw new RangeError(
          `${fn}: ${who(l)} is used ${this.#uses.get(l)} times, but a layer with a training mode ` +
            `(BatchNorm, Dropout) cannot be shared; create one per use`,
        );
      }
    }

    // Build every layer once, in order, from the seed; a shared layer must see one shape.
    const rand = mulberry32(seed);
    const firstShapes = new Map<AnyLayer, string>();
    withParamBudget(maxParameters, () => {
      for (const n of nodes) {
        const shapes = n.inputs.map((t) => t.shape);
        const key = JSON.stringify(shapes);
        const seen = firstShapes.get(n.layer);
        if (seen !== undefined) {
          if (seen !== key) {
            throw new RangeError(
              `${fn}: ${
                who(n.layer)
              } is shared, but takes ${seen} at one use and ${key} at another`,
            );
          }
          continue;
        }
        firstShapes.set(n.layer, key);
        try {
          if (isMerge(n.layer)) n.layer.build(shapes);
          else n.layer.build(shapes[0]!, rand);
        } catch (e) {
          throw new RangeError(
            `${fn}: ${who(n.layer)} cannot take ${
              shapes.map((s) => `[${s.join(", ")}]`).join(" and ")
            }: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
    });
    claimLayers(layers);
    this.layers = Object.freeze(layers);
    this.nodes = Object.freeze(nodes);
    this.inputShape = input.shape;
    this.outputShape = output.shape;
    this.#input = input;
    this.#output = output;
  }

  /** Whether the model runs in training mode (BatchNorm on batch statistics, Dropout on). */
  get training(): boolean {
    return this.#training;
  }

  /**
   * Switches training mode on or off for every layer that has one. `fit`
   * and `trainStep` switch it on while training; `predict` and `evaluate`
   * run in inference mode.
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 2 })], [3]);
   * model.setTraining(true);
   * model.training; // true
   * ```
   *
   * @param training The mode.
   */
  setTraining(training: boolean): void {
    if (typeof training !== "boolean") {
      fail(TypeError, "Model.setTraining", "training", "true or false", training);
    }
    this.#training = training;
    for (const l of this.layers) (l as Layer).setTraining?.(training);
  }

  /** Runs `f` in inference mode, restoring the mode after. */
  #inference<T>(f: () => T): T {
    const was = this.#training;
    if (was) this.setTraining(false);
    try {
      // Weights' packed forms may stay in kernel memory between predictions.
      return withKeptWeights(f);
    } finally {
      if (was) this.setTraining(true);
    }
  }

  /**
   * Runs the batch through the graph, keeping what `backward` needs.
   *
   * @param x A batch `[m, ...inputShape]`.
   * @returns The output `[m, ...outputShape]`.
   * @throws {RangeError} If `x` is not shaped `[m, ...inputShape]`.
   */
  forward(x: Tensor): Tensor {
    this.#checkInput("forward", x);
    return this.#run(x).get(this.#output.id)!;
  }

  /**
   * Like {@linkcode forward}, but returns every node's output, in node order
   * (for inspection: the demo page shows the first convolution's maps).
   *
   * @param x A batch `[m, ...inputShape]`.
   * @returns One tensor per node.
   */
  forwardAll(x: Tensor): Tensor[] {
    this.#checkInput("forwardAll", x);
    const values = this.#run(x);
    return this.nodes.map((n) => values.get(n.output.id)!);
  }

  /**
   * `predict`'s run. On the WebAssembly backends the kernels' outputs stay in
   * their memory, in an arena laid out by the values' lifetimes (see
   * `src/backend/_arena.ts`): a kernel reads its input where the previous one
   * wrote it, and only the result is copied out. When the arena cannot hold a
   * run (weights not packed yet, a call that needs more memory), the run is
   * made again with outputs in JavaScript arrays, as on the JavaScript
   * backend; the results are the same bits either way.
   */
  #runPooled(x: Tensor): Tensor {
    return withMemoryFloor(this.#memoryNeed(), () => {
      const arena = activeKernels().arena?.(this.#arenaBytes(x.shape[0]!)) ?? null;
      if (arena) {
        try {
          // The input is copied in once, to a region of its own, given back after its last reader.
          const data = arena.take(x.data.length);
          data.set(x.data);
          const y = this.#runOn(arena, { shape: x.shape, data });
          this.#pool = null; // the JavaScript arrays of an ordinary run are not needed now
          // The result leaves kernel memory: the next prediction reuses the arena.
          return arena.ownerOf(y.data) ? { shape: y.shape, data: y.data.slice() } : y;
        } catch (e) {
          if (!(e instanceof ArenaAbort)) throw e;
        } finally {
          arena.endRun();
        }
      }
      const pool = this.#pool ??= new OutputPool();
      try {
        const y = this.#runOn(pool, x), own = pool.ownerOf(y.data);
        if (!own) return y;
        // The result leaves as a copy and the pool's array serves the next prediction: a fresh
        // pooled array per prediction would be one more entry for the collector's weak map.
        const out = { shape: y.shape, data: y.data.slice() };
        pool.give(own);
        return out;
      } finally {
        pool.endRun();
      }
    });
  }

  /**
   * The bytes an arena needs for a batch of `m` if every node's output is a
   * kernel's: the arena's own placement (first-fit, a value's region free
   * after its last reader) played over the input's copy and the nodes. Outputs that are views of
   * their input or JavaScript arrays only make it smaller.
   */
  #arenaBytes(m: number): number {
    if (this.#arenaHint?.m === m) return this.#arenaHint.bytes;
    const last = this.#lastRead ??= this.#lastReaders();
    const fit = new FirstFit(), at = new Map<number, [number, number]>();
    const input = regionBytes(m * sizeOf(this.inputShape));
    at.set(this.#input.id, [fit.take(input), input]);
    this.nodes.forEach((n, i) => {
      const bytes = regionBytes(m * sizeOf(n.output.shape));
      at.set(n.output.id, [fit.take(bytes), bytes]);
      for (const t of new Set(n.inputs)) {
        const r = at.get(t.id);
        if (r && last.get(t.id) === i) fit.give(r[0], r[1]);
      }
    });
    this.#arenaHint = { m, bytes: fit.peak };
    return fit.peak;
  }

  /**
   * Runs the nodes with outputs from `pool`: each node's output is given back
   * once its last reader ran (by memory: views of one array count together),
   * so the next nodes and the next prediction reuse it. Nothing is kept for
   * `backward`.
   */
  #runOn(pool: OutputSource, x: Tensor): Tensor {
    const frees = this.#frees ??= this.#freedAt();
    const values = new Map<number, Tensor>([[this.#input.id, x]]);
    const refs = new Map<object, number>();
    const keyOf = (t: Tensor): object => pool.ownerOf(t.data) ?? t.data.buffer;
    const hold = (t: Tensor) => {
      const k = keyOf(t);
      refs.set(k, (refs.get(k) ?? 0) + 1);
    };
    hold(x);
    this.#values = null;
    withOutputPool(pool, () => {
      this.nodes.forEach((n, i) => {
        const ins = n.inputs.map((t) => values.get(t.id)!);
        const y = isMerge(n.layer) ? n.layer.forward(ins) : n.layer.forward(ins[0]!);
        values.set(n.output.id, y);
        hold(y);
        for (const id of frees[i]!) {
          const v = values.get(id)!;
          values.delete(id);
          const k = keyOf(v), left = refs.get(k)! - 1;
          refs.set(k, left);
          if (left === 0 && k instanceof Float32Array) pool.give(k);
        }
      });
    });
    return values.get(this.#output.id)!;
  }

  /** For each node, the values whose last reader it is (each once). */
  #freedAt(): number[][] {
    const last = this.#lastRead ??= this.#lastReaders();
    return this.nodes.map((n, i) =>
      [...new Set(n.inputs.map((t) => t.id))].filter((id) => last.get(id) === i)
    );
  }

  /** For each value a node reads, the index of the last node reading it (the output: none). */
  #lastReaders(): Map<number, number> {
    const last = new Map<number, number>();
    this.nodes.forEach((n, i) => n.inputs.forEach((t) => last.set(t.id, i)));
    last.delete(this.#output.id);
    return last;
  }

  #run(x: Tensor): Map<number, Tensor> {
    const values = new Map<number, Tensor>([[this.#input.id, x]]);
    withMemoryFloor(this.#memoryNeed(), () => {
      for (const n of this.nodes) {
        const ins = n.inputs.map((t) => values.get(t.id)!);
        values.set(
          n.output.id,
          isMerge(n.layer) ? n.layer.forward(ins) : n.layer.forward(ins[0]!),
        );
      }
    });
    this.#values = values;
    return values;
  }

  /**
   * The kernel memory the model itself needs: for each layer, its weights
   * (with their gradients, for training) and one sample's input and output
   * with room for padded copies; the largest over the layers. It does not
   * grow with the batch: a big batch still meets the memory limit, as
   * `predict` splits it into slices.
   */
  #memoryNeed(): number {
    return this.#need ??= this.#computeMemoryNeed();
  }
  #computeMemoryNeed(): number {
    let most = 0, kept = 0;
    for (const n of this.nodes) {
      const params = n.layer.params().reduce((a, p) => a + p.value.length, 0);
      const acts = n.inputs.reduce((a, t) => a + sizeOf(t.shape), sizeOf(n.output.shape));
      most = Math.max(most, 4 * (2 * params + 3 * acts));
      kept += params;
    }
    // Room to keep every weight in kernel memory too, in up to two packed forms (Winograd's).
    return most + 8 * kept + 16 * 2 ** 20;
  }

  /**
   * Back-propagates the gradient of the loss with respect to the output of
   * the last `forward`, adding every parameter's gradient into `Param.grad`
   * (a shared layer's gradients from each use add up).
   *
   * @param dOut The gradient, shaped like the last forward output.
   * @param options `inputGradient`: also compute the gradient with respect to the input (default false).
   * @returns The input gradient when asked for, else `null`.
   * @throws {RangeError} If called before `forward`, or if `dOut` is not shaped like the last output.
   * @throws {TypeError} On an unknown option.
   */
  backward(dOut: Tensor, options: { inputGradient?: boolean } = {}): Tensor | null {
    const fnb = `${this.constructor.name}.backward`;
    const bo = checkOptions(fnb, "options", options, ["inputGradient"]);
    const wantInput = checkBoolean(fnb, "options.inputGradient", bo["inputGradient"] ?? false);
    const values = this.#values;
    if (!values) {
      throw new RangeError(
        `${fnb}: backward was called before forward (run forward on a batch first; predict keeps nothing for backward)`,
      );
    }
    const last = values.get(this.#output.id)!;
    const ds = dOut?.shape;
    if (
      !Array.isArray(ds) || !(dOut.data instanceof Float32Array) ||
      ds.length !== last.shape.length || ds.some((d, i) => d !== last.shape[i]) ||
      dOut.data.length !== last.data.length
    ) {
      throw new RangeError(
        `${this.constructor.name}.backward: dOut must have the last forward output's shape [${
          last.shape.join(", ")
        }], got ${Array.isArray(ds) ? `[${ds.join(", ")}]` : String(ds)}`,
      );
    }
    return withMemoryFloor(
      this.#memoryNeed(),
      () => this.#backwardFrom(this.nodes.length - 1, this.#output.id, dOut, wantInput),
    );
  }

  /** Back-propagates `dOut`, the gradient of value `id`, through nodes `last` down to 0. */
  #backwardFrom(last: number, id: number, dOut: Tensor, wantInput: boolean): Tensor | null {
    const values = this.#values!;
    const grads = new Map<number, Tensor>([[id, dOut]]);
    const add = (t: SymbolicTensor, g: Tensor) => {
      const have = grads.get(t.id);
      if (!have) {
        grads.set(t.id, g);
        return;
      }
      const sum = have.data.slice();
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + g.data[i]!;
      grads.set(t.id, { shape: have.shape, data: sum });
    };
    for (let k = last; k >= 0; k--) {
      const n = this.nodes[k]!;
      const g = grads.get(n.output.id);
      if (!g) continue;
      const ins = n.inputs.map((t) => values.get(t.id)!);
      if (isMerge(n.layer)) {
        const gs = n.layer.backward(g);
        n.inputs.forEach((t, i) => {
          if (t !== this.#input || wantInput) add(t, gs[i]!);
        });
        continue;
      }
      // A shared layer keeps the cache of its last forward: restore this node's.
      if (this.#uses.get(n.layer)! > 1) n.layer.forward(ins[0]!);
      const t = n.inputs[0]!;
      const need = t !== this.#input || wantInput;
      const dx = n.layer.backward(g, need);
      if (need && dx) add(t, dx);
    }
    return wantInput ? grads.get(this.#input.id) ?? null : null;
  }

  static {
    hooks.trailingSoftmax = (m: object): TrailingSoftmax | null => {
      if (!(m instanceof Model)) return null;
      const model = m;
      const last = model.nodes[model.nodes.length - 1];
      if (!last || last.layer.kind !== "Softmax" || last.output !== model.#output) return null;
      const t = last.inputs[0]!;
      if (t === model.#input) return null;
      // The logits must be read only by the Softmax, or their gradient would miss the other readers.
      if (model.nodes.some((n) => n !== last && n.inputs.includes(t))) return null;
      return {
        logits: () => {
          const v = model.#values?.get(t.id);
          if (!v) throw new RangeError("fit: no forward pass to read logits from");
          return v;
        },
        backward: (d: Tensor) => {
          withMemoryFloor(
            model.#memoryNeed(),
            () => model.#backwardFrom(model.nodes.length - 2, t.id, d, false),
          );
        },
      };
    };
  }

  /**
   * Inference: the output for any number of samples (logits, for a
   * classifier; see `softmax`). Large inputs run in slices of
   * `batchSize` samples, so that 5,000 images need no more kernel memory
   * than 256 do; the result is the same as one `forward` call. It runs in
   * inference mode (BatchNorm uses its running statistics, Dropout is off).
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential, tensor } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 2 })], [3]);
   * model.predict(tensor(new Float32Array(5000 * 3), [5000, 3]), { batchSize: 1000 }).shape; // [5000, 2]
   * ```
   *
   * @param x Samples `[m, ...inputShape]`.
   * @param options `batchSize`: samples per slice, a positive integer (default 256).
   * @returns `[m, ...outputShape]`.
   * @throws {RangeError} If `x` is not shaped `[m, ...inputShape]`.
   */
  predict(x: Tensor, options: { batchSize?: number } = {}): Tensor {
    this.#checkInput("predict", x);
    const fn = `${this.constructor.name}.predict`;
    const o = checkOptions(fn, "options", options, ["batchSize"]);
    const bs = checkPositiveInt(fn, "options.batchSize", o["batchSize"] ?? 256);
    const m = x.shape[0]!;
    if (m <= bs) return this.#inference(() => this.#runPooled(x));
    const inSize = x.data.length / m, outSize = sizeOf(this.outputShape);
    const out = new Float32Array(m * outSize);
    for (let at = 0; at < m; at += bs) {
      const n = Math.min(bs, m - at);
      const data = x.data.subarray(at * inSize, (at + n) * inSize);
      const y = this.#inference(() => this.#runPooled({ shape: [n, ...this.inputShape], data }));
      out.set(y.data, at * outSize);
    }
    return { shape: [m, ...this.outputShape], data: out };
  }

  /**
   * A copy of every parameter and state tensor (BatchNorm's running statistics), by name
   * (`layerName.kernel`, `layerName.bias`, `layerName.runningMean`, …).
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 2, name: "out" })], [3]);
   * model.getWeights()["out.kernel"]!.shape; // [3, 2]
   * ```
   *
   * @returns A fresh object mapping each parameter's name to a tensor holding a copy of its values.
   */
  getWeights(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const p of [...this.params(), ...this.state()]) {
      out[p.name] = { shape: [...p.shape], data: p.value.slice() };
    }
    return out;
  }

  /**
   * Sets parameters by name, for example weights converted from PyTorch
   * (see `fromTorchConv2dWeight`). Every entry is checked first (a known
   * name, the parameter's exact shape, finite values); if any is wrong
   * nothing changes. Parameters not named keep their values.
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential, tensor } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 1, name: "out" })], [2]);
   * model.setWeights({ "out.kernel": tensor([1, 2], [2, 1]), "out.bias": tensor([0.5], [1]) });
   * model.predict(tensor([1, 1], [1, 2])).data; // Float32Array [3.5]
   * ```
   *
   * @param weights Tensors by parameter name.
   * @throws {TypeError} If `weights` is not an object of tensors.
   * @throws {RangeError} If a name is unknown, a shape differs or a value is not finite.
   */
  setWeights(weights: Readonly<Record<string, Tensor>>): void {
    const fn = `${this.constructor.name}.setWeights`;
    const w = checkObject(fn, "weights", weights);
    const byName = new Map([...this.params(), ...this.state()].map((p) => [p.name, p]));
    const plan: [Param, Float32Array][] = [];
    for (const [name, t] of Object.entries(w)) {
      const p = byName.get(name);
      if (!p) {
        throw new RangeError(
          `${fn}: weights has "${name}", which is not a parameter of this model; known: ${
            [...byName.keys()].join(", ")
          }`,
        );
      }
      const arg = `weights["${name}"]`;
      const tt = checkObject(fn, arg, t);
      const shape = checkDims(fn, `${arg}.shape`, tt["shape"]);
      if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
        throw new RangeError(
          `${fn}: ${arg}.shape must be [${p.shape.join(", ")}], got [${shape.join(", ")}]`,
        );
      }
      const data = checkFloat32Array(fn, `${arg}.data`, tt["data"], p.value.length);
      const bad = firstNonFinite(data);
      if (bad >= 0) fail(RangeError, fn, `${arg}.data[${bad}]`, "a finite number", data[bad]);
      plan.push([p, data]);
    }
    for (const [p, data] of plan) {
      p.value.set(data);
      markChanged(p.value);
    }
  }

  /**
   * Says that you wrote into parameter arrays yourself (`param.value[i] = …`).
   * During `predict` and `evaluate`, the WebAssembly backends keep each
   * weight array's packed form in kernel memory and reuse it until the array
   * is marked changed: `fit`, `trainStep`, the built-in optimisers' `step`,
   * `setWeights`, `loadWeights` and `checkGradients` mark what they write;
   * after any other write, call this before the next `predict`. (Filters of
   * up to 4,096 values are copied in at every call and never kept; a kept
   * array is also compared at 64 sampled values at each use, so most
   * forgotten calls are caught, but not every edit of a large array.
   * `forward` always copies the weights in.)
   *
   * @example Usage
   * ```ts
   * import { Dense, Sequential, tensor } from "@convnet/wasm";
   * const model = new Sequential([new Dense({ units: 1 })], [2], { seed: 1 });
   * const [kernel] = model.params();
   * kernel!.value.set([1, 1]);
   * model.weightsChanged();
   * model.predict(tensor([1, 2], [1, 2])).data; // Float32Array [3]
   * ```
   */
  weightsChanged(): void {
    for (const p of [...this.params(), ...this.state()]) markChanged(p.value);
  }

  /** All trainable parameters, layer by layer (a shared layer's once). */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params());
  }

  /** All state tensors (BatchNorm's running statistics): saved in model files, not trained. */
  state(): Param[] {
    return this.layers.flatMap((l) => (l as Layer).state?.() ?? []);
  }

  /** The number of trainable numbers. */
  get parameterCount(): number {
    return this.params().reduce((n, p) => n + p.value.length, 0);
  }

  /** The architecture, as model files store it. */
  config(): GraphConfig | {
    readonly inputShape: SampleShape;
    readonly layers: readonly LayerConfig[];
  } {
    const index = new Map(this.nodes.map((n, i) => [n.output, i]));
    return {
      format: "graph",
      version: 2,
      inputShape: [...this.inputShape],
      layers: this.layers.map((l) => l.config()),
      nodes: this.nodes.map((n) => ({
        layer: n.layer.name,
        inputs: n.inputs.map((t) => (t === this.#input ? -1 : index.get(t)!)),
      })),
      output: index.get(this.#output)!,
    };
  }

  /** One row per node: name, kind, output shape, parameter count, inputs. */
  layerSummary(): LayerSummary[] {
    const seen = new Set<AnyLayer>();
    const producer = new Map(this.nodes.map((n) => [n.output, n.layer.name]));
    return this.nodes.map((n) => {
      const first = !seen.has(n.layer);
      seen.add(n.layer);
      return {
        name: n.layer.name,
        kind: n.layer.kind,
        outputShape: n.output.shape,
        params: first ? n.layer.params().reduce((s, p) => s + p.value.length, 0) : 0,
        inputs: n.inputs.map((t) => (t === this.#input ? "input" : producer.get(t)!)),
      };
    });
  }

  /**
   * A printable table of the layers, like Keras's `summary()`.
   *
   * @returns The table, one line per layer, with the input and the total.
   */
  summary(): string {
    const rows = [["layer", "kind", "output shape", "params"], [
      "input",
      "",
      `[${this.inputShape.join(", ")}]`,
      "",
    ]];
    for (const s of this.layerSummary()) {
      rows.push([s.name, s.kind, `[${s.outputShape.join(", ")}]`, String(s.params)]);
    }
    const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) =>
      r.map((c, i) => (i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ");
    return [...rows.map(line), `total parameters: ${this.parameterCount}`].join("\n");
  }

  #checkInput(fn: string, x: Tensor): void {
    const where = `${this.constructor.name}.${fn}`;
    const s = x?.shape;
    const ok = Array.isArray(s) && s.length === this.inputShape.length + 1 &&
      Number.isInteger(s[0]) &&
      s[0]! > 0 && this.inputShape.every((d, i) => s[i + 1] === d);
    if (!ok) {
      throw new RangeError(
        `${where}: x must have shape [m, ${this.inputShape.join(", ")}], got ${
          Array.isArray(s) ? `[${s.join(", ")}]` : String(s)
        }`,
      );
    }
    checkTensorData(where, "x", x);
  }
}
