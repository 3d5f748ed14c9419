// No bundled model: alias `served-model` to this module when the Worker reads its model from R2
// (the MODEL_BUCKET binding and the MODEL_KEY var; see "A model in R2" in the README).
export default new ArrayBuffer(0);
