// hostPath volumes: the type checks kubelet makes before the path is handed to the runtime, and
// the creation done for DirectoryOrCreate (mode 0755, with parents) and FileOrCreate (empty 0644
// file; its parent must exist).
import { constants } from 'node:fs';
import { chmod, mkdir, open, stat } from 'node:fs/promises';

type FileType = 'Directory' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice' | 'Unknown';

const DESCRIPTION: Record<string, string> = {
  Directory: 'directory',
  File: 'file',
  Socket: 'socket file',
  CharDevice: 'character device',
  BlockDevice: 'block device',
};

/** Check (and for the *OrCreate types create) `path`; throws with kubelet's message when it does not fit `type`. */
export async function prepareHostPath(path: string, type: string | undefined): Promise<void> {
  switch (type ?? '') {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!(await exists(path))) {
        await mkdir(path, { recursive: true, mode: 0o755 });
        await chmod(path, 0o755);
      }
      return expectType(path, 'Directory');
    case 'Directory':
      return expectType(path, 'Directory');
    case 'FileOrCreate':
      if (!(await exists(path))) {
        const fh = await open(path, constants.O_CREAT | constants.O_WRONLY, 0o644);
        await fh.close();
      }
      return expectType(path, 'File');
    case 'File':
      return expectType(path, 'File');
    case 'Socket':
    case 'CharDevice':
    case 'BlockDevice':
      return expectType(path, type as FileType);
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}

async function expectType(path: string, want: FileType): Promise<void> {
  if (!(await exists(path))) throw new Error(`hostPath ${path} doesn't exist`);
  const got = await fileType(path);
  if (got !== want) throw new Error(`hostPath type check failed: ${path} is not a ${DESCRIPTION[want]}, it's a ${got}`);
}

async function fileType(path: string): Promise<FileType> {
  const st = await stat(path);
  if (st.isDirectory()) return 'Directory';
  if (st.isFile()) return 'File';
  if (st.isSocket()) return 'Socket';
  if (st.isCharacterDevice()) return 'CharDevice';
  if (st.isBlockDevice()) return 'BlockDevice';
  return 'Unknown';
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
