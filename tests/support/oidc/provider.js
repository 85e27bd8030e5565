// A real OpenID Connect provider (the npm package oidc-provider) for the hub's OIDC tests.
//
//   node provider.js PORT ACCOUNTS_JSON CLIENT_SECRET REDIRECT_URI [REDIRECT_URI ...]
//
// Listens on 127.0.0.1:PORT with one confidential client, "jupyterhub". Accounts are read from
// ACCOUNTS_JSON at every lookup ({"<sub>": {"preferred_username": "...", "groups": [...]}}), so
// a test changes someone's groups by rewriting the file. The login page is oidc-provider's own
// development form: the login typed is the account's sub; any password is accepted. Consent is
// granted automatically (a first-party client). Prints "ready <issuer>" once it listens.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, accountsFile, clientSecret, ...redirectUris] = process.argv.slice(2);
if (!port || !accountsFile || !clientSecret || redirectUris.length === 0) {
  console.error('usage: node provider.js PORT ACCOUNTS_JSON CLIENT_SECRET REDIRECT_URI...');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const SCOPES = ['openid', 'profile', 'groups'];

function accounts() {
  return JSON.parse(readFileSync(accountsFile, 'utf8'));
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'jupyterhub',
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
  ],
  scopes: [...SCOPES, 'offline_access'],
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
  cookies: { keys: ['aifnb-test-only-cookie-key'] },
  async findAccount(ctx, sub) {
    const account = accounts()[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(SCOPES.join(' '));
    grant.addOIDCClaims(['preferred_username', 'name', 'groups']);
    await grant.save();
    return grant;
  },
  // The hub refreshes users' groups with the refresh token when the access token has expired.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  features: { devInteractions: { enabled: true } },
});
// Development interactions print a warning per start; the tests read only our own lines.
provider.on('server_error', (ctx, err) => console.error(`server_error: ${err.message}`));

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
