// This module is browser compatible.

/**
 * Images into models, in every runtime and without dependencies: PNG and
 * JPEG decoding (JPEGs straight to the size needed, by DCT-domain scaling;
 * EXIF orientation applied) with {@linkcode decodeImage}, and torchvision's
 * preprocessing (PIL's antialiased bilinear resize, centre crop,
 * normalisation) to an NHWC tensor with {@linkcode imageToTensor}.
 *
 * @example
 * ```ts
 * import { decodeImage, IMAGENET, imageToTensor } from "@convnet/wasm/image";
 * const bytes = await Deno.readFile("tests/fixtures/images/photo-3-baseline.jpg");
 * const img = await decodeImage(bytes, { minSize: 256 });
 * const x = imageToTensor(img, { size: [224, 224], mode: "center-crop", ...IMAGENET });
 * console.log(x.shape); // [1, 224, 224, 3]
 * ```
 *
 * @module
 */

export {
  type DecodedImage,
  decodeImage,
  type DecodeImageOptions,
  isJpeg,
  isPng,
} from "./decode.ts";
export { IMAGENET, imageToTensor, type ImageToTensorOptions } from "./tensor.ts";
export { ImageError, MAX_SIDE } from "./_errors.ts";
export type { Shape, Tensor } from "../core/types.ts";
