// Explicit compaction: after the compaction marker went up, delete the history at or below it
// that no read from the marker on can need.
import type { Item, TableClient } from './client.js';
import { keyOfChunk, keyOfLog } from './items.js';
import type { Revisions } from './revisions.js';
import { LOG_PK, PARTITION_KEY, revOfSortKey, revSortKey, SORT_KEY } from './table.js';

/**
 * Deletes fillers, deletions and values superseded at or before `rev` (with their chunks), in
 * batches, continuing where an earlier compaction stopped. Values still current at `rev` stay.
 */
export async function deleteHistory(table: TableClient, revs: Revisions, rev: number): Promise<void> {
  let after = await revs.compactionDone('compact');
  while (after < rev) {
    const out = await table.query('compact', {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#t': 't', '#s': 's', '#n': 'n' },
      ExpressionAttributeValues: { ':pk': { S: LOG_PK }, ':lo': { S: revSortKey(after + 1) }, ':hi': { S: revSortKey(rev) } },
      ProjectionExpression: '#sk, #t, #s, #n',
      Limit: 500,
    });
    const doomed: Item[] = [];
    for (const item of out.Items ?? []) {
      const r = revOfSortKey(item[SORT_KEY].S!);
      const superseded = Number(item.s?.N ?? 0);
      // Fillers and deletions carry nothing a read at or after `rev` needs; nor do values
      // replaced at or before it. A value still current at `rev` stays (snapshots need it).
      if (item.t.S === 'PUT' && !(superseded > 0 && superseded <= rev)) continue;
      doomed.push(keyOfLog(r));
      for (let i = 0; i < Number(item.n?.N ?? 0); i++) doomed.push(keyOfChunk(r, i));
    }
    await table.batchDelete('compact', doomed);
    after = out.LastEvaluatedKey ? revOfSortKey(out.LastEvaluatedKey[SORT_KEY].S!) : rev;
    await revs.markCompactionDone('compact', after);
  }
}
