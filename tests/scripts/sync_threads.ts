// Run by tests/runtime_choice_test.ts in a fresh process: a synchronous loop of predict
// (no await anywhere) after setThreads(2) must get its workers to take tasks.
import { Conv2D, kernelThreadStats, Sequential, setThreads, tensor } from "../../mod.ts";

setThreads(2);
const model = new Sequential(
  [new Conv2D({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" })],
  [32, 32, 16],
);
const x = tensor(new Float32Array(4 * 32 * 32 * 16).fill(0.5), [4, 32, 32, 16]);
const t0 = performance.now();
let calls = 0;
while (kernelThreadStats().workerTasks === 0 && performance.now() - t0 < 10_000) {
  model.predict(x);
  calls++;
}
const s = kernelThreadStats();
console.log(JSON.stringify({ ...s, calls, ms: Math.round(performance.now() - t0) }));
