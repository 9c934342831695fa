/**
 * Vitest global setup: the national Schematron is compiled once, before any test file starts
 * (about a minute on a fresh machine, nothing when it is cached), so the finalize hooks of the
 * server tests never wait for a compile inside their time limits. Without the NEMSIS release
 * beside the checkout there is nothing to compile (and the tests that need it say so).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledSchematron } from '../../server/nemsis/schematron-compile.ts';

export default async function compileSchematronOnce(): Promise<void> {
  const nemsisDir = process.env['NEMSIS_DIR'] ?? path.resolve(fileURLToPath(new URL('../../', import.meta.url)), '../shared/nemsis');
  if (!existsSync(path.join(nemsisDir, 'schematron', 'EMSDataSet.sch'))) return;
  await compiledSchematron({ nemsisDir });
}
