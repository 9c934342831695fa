/**
 * `node --import tsx bench/schematron.ts [rounds]`: how long the finalize check's national
 * Schematron takes per report (on its worker thread), for the NEMSIS samples and app-shaped
 * reports (test/server/nemsis/fixtures.ts), and the whole check (export + XSD + Schematron).
 * The first run after a new rules version also pays the compile, reported apart.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkEpcrExport } from '../server/hooks/epcr-export-check.ts';
import { compiledSchematron } from '../server/nemsis/schematron-compile.ts';
import { sharedSchematronValidator } from '../server/nemsis/schematron.ts';
import { agency, cancelledPriorToArrivalEpcr, motorVehicleCollisionEpcr, overdoseEpcr } from '../test/server/nemsis/fixtures.ts';

const nemsisDir = process.env['NEMSIS_DIR'] ?? path.resolve(import.meta.dirname, '../../shared/nemsis');
const rounds = Number(process.argv[2] ?? 5);

let started = performance.now();
await compiledSchematron({ nemsisDir });
console.log(`compiled rules ready in ${(performance.now() - started).toFixed(0)} ms (0 when cached)`);
const validator = sharedSchematronValidator({ nemsisDir });
started = performance.now();
await validator.ready();
console.log(`worker loaded the rules in ${(performance.now() - started).toFixed(0)} ms`);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const name of ['2025-EMS-1-Overdose_v351.xml', '2025-EMS-3-MVC_v351.xml', '2025-EMS-5-CPMIH_v351.xml', '2025-EMS-FailSchematron_v351.xml']) {
  const xml = await readFile(path.join(nemsisDir, 'samples', name), 'utf8');
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push((await validator.validate(xml)).ms);
  console.log(`${name}: Schematron median ${median(times)} ms (first ${times[0]} ms, ${rounds} rounds)`);
}
for (const [name, report] of [['overdose', overdoseEpcr()], ['collision', motorVehicleCollisionEpcr()], ['cancelled', cancelledPriorToArrivalEpcr()]] as const) {
  const schematron: number[] = [];
  const whole: number[] = [];
  let counts = '';
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const check = await checkEpcrExport(report, { agency, nemsisDir });
    whole.push(Math.round(performance.now() - t));
    schematron.push(check.schematronMs);
    counts = `${check.errors.length} errors, ${check.warnings.length} warnings`;
  }
  console.log(`app report "${name}": Schematron median ${median(schematron)} ms, whole check median ${median(whole)} ms (${counts})`);
}
await validator.close();
