/**
 * `npm run nemsis:schematron`: compiles the national Schematron of the NEMSIS release in
 * NEMSIS_DIR into SCHEMATRON_CACHE_DIR (once per version of the rules; about a minute), so a
 * deployment or CI machine does it before the first finalize rather than during it. A server
 * compiles it by itself when it is missing; this only moves the wait. Prints the compiled file.
 */
import { readConfig } from '../server/config.ts';
import { compiledSchematron } from '../server/nemsis/schematron-compile.ts';

const config = readConfig();
if (!config.nemsisXsdDir) {
  console.error('NEMSIS_DIR is not set and ../shared/nemsis has no EMSDataSet_v3.xsd: there are no rules to compile.');
  process.exit(2);
}
const started = Date.now();
const sef = await compiledSchematron({ nemsisDir: config.nemsisXsdDir }, config.schematronCacheDir);
console.log(`${sef} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
