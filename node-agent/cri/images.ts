// Making sure a container's image is on the node, following imagePullPolicy the way kubelet's image
// manager does, with kubelet's reasons and messages so the agent can report ErrImagePull,
// ErrImageNeverPull and, while it backs off, ImagePullBackOff.
import { CriError, type AuthConfig, type CriClient, type PodSandboxConfig } from './client.js';
import { authFor, type PodPullCredentials } from './pull-secrets.js';

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
   * (defaulted to Always) run on a machine without a registry. Not kubelet's behaviour; on by default,
   * ignored when pullSecrets hold credentials for the image's registry.
   */
  localImagesSatisfyAlways?: boolean;
  /** The pod's pull secrets (pullCredentials): the ones matching the image's registry are tried in turn. */
  pullSecrets?: Pick<PodPullCredentials, 'credentials' | 'error'>;
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
  // Credentials for the image's registry mean a registry exists for it: Always then really pulls.
  const localSatisfiesAlways = (opts.localImagesSatisfyAlways ?? true) && authFor(image, opts.pullSecrets?.credentials ?? []).length === 0;
  const pull = policy === 'Never' ? false : policy === 'Always' ? !(present && localSatisfiesAlways) : !present;
  if (!pull) {
    if (present) return present.id;
    throw new ImagePullError('ErrImageNeverPull', `Container image "${userImage}" is not present with pull policy of Never`, userImage, container);
  }
  return pullWithCredentials(client, opts, image);
}

async function pullWithCredentials(client: CriClient, opts: EnsureImageOptions, image: string): Promise<string> {
  const { container, image: userImage, pullSecrets } = opts;
  if (pullSecrets?.error) throw new ImagePullError('ErrImagePull', pullSecrets.error, userImage, container);
  const auths: (AuthConfig | undefined)[] = authFor(image, pullSecrets?.credentials ?? []);
  if (auths.length === 0) auths.push(undefined);
  const failures: string[] = [];
  for (const auth of auths) {
    try {
      return await client.pullImage({ image, user_specified_image: userImage }, auth, opts.sandboxConfig);
    } catch (e) {
      failures.push(message(e));
    }
  }
  throw new ImagePullError('ErrImagePull', aggregateMessage(failures), userImage, container);
}

/** Several failed attempts read as one message, like Kubernetes' error aggregate: "[a, b]", repeats dropped. */
function aggregateMessage(messages: string[]): string {
  const distinct = [...new Set(messages)];
  return distinct.length === 1 ? distinct[0] : `[${distinct.join(', ')}]`;
}

function message(e: unknown): string {
  return e instanceof CriError || e instanceof Error ? e.message : String(e);
}
