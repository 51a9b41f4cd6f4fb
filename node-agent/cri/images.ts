// Making sure a container's image is on the node, following imagePullPolicy the way kubelet's image
// manager does, with kubelet's reasons and messages so the agent can report ErrImagePull,
// ErrImageNeverPull and, while it backs off, ImagePullBackOff.
import { CriError, type CriClient, type PodSandboxConfig } from './client.js';

export type ImagePullReason = 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName' | 'ImageInspectError';

export class ImagePullError extends Error {
  constructor(
    /** The container status waiting reason kubelet would show. */
    readonly reason: ImagePullReason,
    message: string,
    readonly image: string,
    readonly container: string,
  ) {
    super(message);
    this.name = 'ImagePullError';
  }
}

/** The waiting message while pulls of `image` back off (reason ImagePullBackOff), carrying the last failure. */
export function imagePullBackOffMessage(image: string, last?: ImagePullError): string {
  const base = `Back-off pulling image "${image}"`;
  return last ? `${base}: ${last.reason}: ${last.message}` : base;
}

/** image[:tag] without tag or digest gets ":latest", as kubelet does before asking the runtime. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? image : `${image}:latest`;
}

/** The API server's default when the field is unset: Always for :latest or untagged images. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

// The docker reference grammar: [domain[:port]/]path[:tag][@digest], lowercase path components.
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const PATH_PART = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const VALID_IMAGE = new RegExp(
  `^(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*(?::[0-9]+)?/)?${PATH_PART}(?:/${PATH_PART})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

export interface EnsureImageOptions {
  container: string;
  image: string;
  pullPolicy?: string;
  sandboxConfig?: PodSandboxConfig;
  /**
   * Treat Always like IfNotPresent when the image is already on the node: lets `image: busybox`
   * (defaulted to Always) run on a machine without a registry. Not kubelet's behaviour; on by default.
   */
  localImagesSatisfyAlways?: boolean;
}

/** Returns the image reference the runtime uses; throws ImagePullError with kubelet's reason and message. */
export async function ensureImage(client: CriClient, opts: EnsureImageOptions): Promise<string> {
  const { container, image: userImage } = opts;
  if (!userImage || !VALID_IMAGE.test(userImage)) {
    throw new ImagePullError('InvalidImageName', `Failed to apply default image tag "${userImage}": couldn't parse image name "${userImage}": invalid reference format`, userImage, container);
  }
  const image = withDefaultTag(userImage);
  const policy = opts.pullPolicy || defaultPullPolicy(userImage);
  let present: { id: string } | null;
  try {
    present = await client.imageStatus({ image });
  } catch (e) {
    throw new ImagePullError('ImageInspectError', `Failed to inspect image "${userImage}": ${message(e)}`, userImage, container);
  }
  const pull = policy === 'Never' ? false : policy === 'Always' ? !(present && (opts.localImagesSatisfyAlways ?? true)) : !present;
  if (!pull) {
    if (present) return present.id;
    throw new ImagePullError('ErrImageNeverPull', `Container image "${userImage}" is not present with pull policy of Never`, userImage, container);
  }
  try {
    return await client.pullImage({ image, user_specified_image: userImage }, undefined, opts.sandboxConfig);
  } catch (e) {
    throw new ImagePullError('ErrImagePull', message(e), userImage, container);
  }
}

function message(e: unknown): string {
  return e instanceof CriError || e instanceof Error ? e.message : String(e);
}
