export * from './rules.ts';
export * from './policy.ts';
export * from './rejections.ts';
