// Bundles the compiled broker (dist/broker/cli.js and everything it imports) into one ES module,
// dist/strata.mjs, which bin/strata runs. Loading one file instead of some two hundred modules and
// their packages takes about 100 ms off every start (docs/performance.md).
//
// Packages with native addons stay outside the bundle: their .node files are found at run time
// through node_modules. Everything else, express and prom-client included, goes in. Dynamic imports
// (express, loaded after the Kafka listeners are up) stay lazy: the bundled module runs only when
// the import() call is reached.
import { build } from 'esbuild';

const NATIVE_PACKAGES = ['@node-rs/crc32', 'lz4-napi', 'snappy', 'zstd-napi'];

// `strata operator` stays outside the bundle: the Kubernetes client it uses is larger than the whole
// broker, and bundled it would more than double the file every broker start parses (an external
// package would be worse: ES module imports are hoisted, so every start would load it). The command
// imports dist/operator/process/main.js, as tsc compiled it, only when it runs.
const operatorOutside = {
  name: 'operator-outside',
  setup(b) {
    b.onResolve({ filter: /\/operator\/process\/main\.js$/ }, () => ({ path: './operator/process/main.js', external: true }));
  },
};

await build({
  entryPoints: ['dist/broker/cli.js'],
  outfile: 'dist/strata.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: NATIVE_PACKAGES,
  plugins: [operatorOutside],
  // CommonJS packages in an ES module bundle call require(); give them one.
  banner: { js: "import { createRequire as strataCreateRequire } from 'node:module'; const require = strataCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
