export default async function globalTeardown(): Promise<void> {
  await globalThis.__VCN_TEST_STACK__?.stop();
}
