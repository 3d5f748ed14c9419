// This module is browser compatible.

/**
 * The error every image decoder throws, and the size limit they share.
 *
 * @module
 */

/** The largest width or height accepted by default, for every image format (8192). */
export const MAX_SIDE = 8192;

/**
 * Why an image was refused: `status` 400 when it is malformed or of a kind
 * not supported, 413 when it is larger than allowed. The message names what
 * was expected and what came.
 *
 * @example
 * ```ts
 * import { decodeImage, ImageError } from "@convnet/wasm/image";
 * try {
 *   await decodeImage(new Uint8Array([1, 2, 3]));
 * } catch (e) {
 *   console.log(e instanceof ImageError && e.status); // 400
 * }
 * ```
 */
export class ImageError extends Error {
  /**
   * Makes the error.
   *
   * @param status 400 (malformed or unsupported) or 413 (too large).
   * @param message What is wrong, for a person.
   */
  constructor(readonly status: 400 | 413, message: string) {
    super(message);
    this.name = "ImageError";
  }
}
