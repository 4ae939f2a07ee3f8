// RFC 6120 §6.3.8: an authorization identity, if given, is a bare JID. We only let users
// act as themselves: the authzid must be `<username>@<domain>` with no resourcepart. The
// domain (and JID normalisation) is for the gateway to check; it gets the authzid back in
// the success step.

/** Whether `authzid` looks like the bare JID of `username` at some domain. */
export function isOwnBareJid(authzid: string, username: string): boolean {
  if (!authzid.startsWith(`${username}@`)) return false;
  const domain = authzid.slice(username.length + 1);
  return domain.length > 0 && !domain.includes('@') && !domain.includes('/');
}
