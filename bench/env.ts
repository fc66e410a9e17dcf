// What the browser the tools run in reports about itself.
export async function describe(): Promise<Record<string, number | string>> {
  return { 'env.user_agent': navigator.userAgent, 'env.hardware_concurrency': navigator.hardwareConcurrency };
}
