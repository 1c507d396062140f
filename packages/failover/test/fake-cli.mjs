#!/usr/bin/env node
// Recording fake of `aws` / `kubectl`: appends its argv to $FAKE_LOG and answers from the
// first rule in $FAKE_RULES whose tool matches and whose regex matches the joined argv.
// A rule's responses are used in order; the last one repeats. No rule: exit 99.
// A rule with `s3` ({ bucket: [{ Key, LastModified }] }) answers `s3api list-objects-v2` as S3
// does: the named bucket's objects whose key starts with --prefix, in key order, all pages
// merged (what the CLI prints); `--query Contents[].Key` and `--max-items` as the CLI applies them.
import fs from 'node:fs';
import path from 'node:path';

const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_LOG, `${JSON.stringify({ tool, args })}\n`);
const rules = JSON.parse(fs.readFileSync(process.env.FAKE_RULES, 'utf8'));
const joined = args.join(' ');
const index = rules.findIndex((r) => r.tool === tool && new RegExp(r.match).test(joined));
if (index < 0) {
  process.stderr.write(`fake ${tool}: no rule for: ${joined}\n`);
  process.exit(99);
}
if (rules[index].s3) {
  const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const bucket = rules[index].s3[flag('--bucket')];
  if (!bucket) {
    process.stderr.write(`An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist\n`);
    process.exit(254);
  }
  const prefix = flag('--prefix') ?? '';
  let contents = bucket.filter((o) => o.Key.startsWith(prefix)).sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
  const maxItems = flag('--max-items');
  if (maxItems) contents = contents.slice(0, Number(maxItems));
  const query = flag('--query');
  if (query === 'Contents[].Key') process.stdout.write(JSON.stringify(contents.length > 0 ? contents.map((o) => o.Key) : null));
  else if (query === undefined) process.stdout.write(contents.length > 0 ? JSON.stringify({ Contents: contents.map((o) => ({ ...o, Size: 1024, StorageClass: 'STANDARD' })) }) : '{}');
  else {
    process.stderr.write(`fake aws: unsupported --query ${query}\n`);
    process.exit(98);
  }
  process.exit(0);
}
const statePath = process.env.FAKE_STATE;
const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};
const used = state[index] ?? 0;
state[index] = used + 1;
fs.writeFileSync(statePath, JSON.stringify(state));
const responses = rules[index].responses;
const response = responses[Math.min(used, responses.length - 1)];
const out = response.stdout === undefined ? '' : typeof response.stdout === 'string' ? response.stdout : JSON.stringify(response.stdout);
process.stdout.write(out);
if (response.stderr) process.stderr.write(response.stderr);
process.exit(response.code ?? 0);
