// /version: the minor reported here picks kubectl's client through the gcloud dispatcher, so
// it names a current Kubernetes minor.
export const KUBERNETES_COMPAT = { major: '1', minor: '33', patch: '0' };

export function versionInfo() {
  return {
    major: KUBERNETES_COMPAT.major,
    minor: KUBERNETES_COMPAT.minor,
    emulationMajor: KUBERNETES_COMPAT.major,
    emulationMinor: KUBERNETES_COMPAT.minor,
    minCompatibilityMajor: KUBERNETES_COMPAT.major,
    minCompatibilityMinor: String(Number(KUBERNETES_COMPAT.minor) - 1),
    gitVersion: `v${KUBERNETES_COMPAT.major}.${KUBERNETES_COMPAT.minor}.${KUBERNETES_COMPAT.patch}-stratus`,
    gitCommit: process.env.STRATUS_COMMIT ?? 'unknown',
    gitTreeState: 'clean',
    buildDate: '2026-11-25T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
