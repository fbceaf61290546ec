/** Hides the password of a MongoDB address so it can be logged or shown in an error. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]*)@/, (_m, cred: string) => `//${cred.split(':')[0]}:***@`);
}
