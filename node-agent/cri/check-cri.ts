// `tsx node-agent/cri/check-cri.ts SOCKET [IMAGE...]`: exits 0 and prints one line when the CRI
// runtime answers Version, reports RuntimeReady and NetworkReady, and has every listed image.
// scripts/setup-node.sh runs it because containerd can run while its CRI plugin failed to load.
import { CriClient } from './client.js';

async function main(): Promise<number> {
  const [socket, ...images] = process.argv.slice(2);
  if (!socket) {
    console.error('usage: check-cri.ts SOCKET [IMAGE...]');
    return 2;
  }
  const client = new CriClient(socket, { timeoutMs: 5000 });
  try {
    const v = await client.version();
    const conditions = await client.status();
    const notReady = conditions.filter((c) => !c.status).map((c) => `${c.type}=false (${c.reason}: ${c.message})`);
    if (notReady.length) {
      console.error(`CRI ${v.runtime_name} ${v.runtime_version}: ${notReady.join('; ')}`);
      return 1;
    }
    const missing: string[] = [];
    for (const image of images) if (!(await client.imageStatus({ image }))) missing.push(image);
    if (missing.length) {
      console.error(`CRI ${v.runtime_name} ${v.runtime_version}: images missing: ${missing.join(', ')}`);
      return 1;
    }
    console.log(`CRI ${v.runtime_name} ${v.runtime_version} (${v.runtime_api_version}) answers; ${conditions.map((c) => c.type).join(', ')}; images: ${images.join(', ') || 'none checked'}`);
    return 0;
  } catch (e) {
    console.error(`CRI Version call failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    client.close();
  }
}

process.exitCode = await main();
