// Copies the browser SDKs the pages load from /vendor/ out of node_modules (pinned in
// package.json / package-lock.json). assets/vendor/ is build output: git-ignored, never edited.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const vendor = join(root, 'assets', 'vendor');

// [file under node_modules, name under assets/vendor]
const FILES = [
  ['bootstrap/dist/css/bootstrap.min.css', 'bootstrap.min.css'],
  ['twilio-video/dist/twilio-video.min.js', 'twilio-video.min.js'],
  ['@twilio/live-player-sdk/dist/build/twilio-live-player.min.js', 'twilio-live-player.min.js'],
  // The player fetches its worker and wasm from `${playerWasmAssetsPath}/<name>`.
  [
    '@twilio/live-player-sdk/dist/build/twilio-live-player-wasmworker-1-7-0.min.js',
    'twilio-live-player-wasmworker-1-7-0.min.js',
  ],
  [
    '@twilio/live-player-sdk/dist/build/twilio-live-player-wasmworker-1-7-0.min.wasm',
    'twilio-live-player-wasmworker-1-7-0.min.wasm',
  ],
  ['amazon-ivs-web-broadcast/dist/amazon-ivs-web-broadcast.js', 'amazon-ivs-web-broadcast.js'],
  // recordings.html plays HLS recordings (ivs) with it where the browser has no HLS of its own.
  ['hls.js/dist/hls.min.js', 'hls.min.js'],
];

// ES module packages, copied as folders: [folder under node_modules, folder under assets/vendor].
// amazon-ivs-chat-messaging ships no single-file build; its modules import 'uuid' by name, which a
// browser cannot resolve, so that one import is pointed at the copied uuid build.
const FOLDERS = [
  ['uuid/dist/esm-browser', 'uuid'],
  ['amazon-ivs-chat-messaging/dist/esm', 'amazon-ivs-chat-messaging'],
];
const BARE_IMPORTS = { uuid: 'uuid/index.js' };

const missing = [...FILES, ...FOLDERS].filter(([source]) => !existsSync(join(modules, source)));
if (missing.length > 0) {
  console.error(
    `Missing ${missing.map(([source]) => source).join(', ')} in node_modules: run \`npm ci\` first ` +
      '(a package version in package.json may have changed its file layout).',
  );
  process.exit(1);
}

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const [source, target] of FILES) {
  copyFileSync(join(modules, source), join(vendor, target));
  console.log(`assets/vendor/${target}`);
}

function copyModules(source, target) {
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(source, { withFileTypes: true })) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory()) {
      copyModules(from, to);
    } else if (entry.name.endsWith('.js')) {
      let code = readFileSync(from, 'utf8');
      for (const [name, file] of Object.entries(BARE_IMPORTS)) {
        let path = relative(dirname(to), join(vendor, file)).replaceAll('\\', '/');
        if (!path.startsWith('.')) path = `./${path}`;
        code = code.replaceAll(`from '${name}'`, `from '${path}'`);
      }
      writeFileSync(to, code);
    } else if (entry.name.endsWith('.js.map')) {
      copyFileSync(from, to);
    }
  }
}

for (const [source, target] of FOLDERS) {
  copyModules(join(modules, source), join(vendor, target));
  console.log(`assets/vendor/${target}/`);
}
