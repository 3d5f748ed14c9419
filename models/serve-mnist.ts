// The model the Worker serves, chosen in wrangler.toml ([alias] "served-model"). wrangler's alias
// resolves a module but skips its Data rules for a bare model file, so the alias names this
// one-line module and the module names the file. To serve another model, write a module like this
// one (`export { default } from "./my-model.onnx";`) and point the alias at it.
export { default } from "./mnist.safetensors";
