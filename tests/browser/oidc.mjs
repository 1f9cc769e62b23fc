// A real OpenID provider for the single sign-on tests: panva's `oidc-provider`, on a free
// loopback port, with one confidential client, a fixed set of accounts, and the library's
// built-in development login and consent pages (what a person sees at the provider).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

// Warnings the library prints on purpose for what a test provider is: Node 20 instead of the
// LTS it prefers, the in-memory store, and the development login pages. Anything else it
// prints still shows.
const EXPECTED_WARNINGS = [
  /^oidc-provider WARNING: Unsupported runtime/,
  /^oidc-provider WARNING: a quick start development-only in-memory adapter is used/,
  /^oidc-provider WARNING: a quick start development-only feature devInteractions is enabled/,
];

async function withoutExpectedWarnings(fn) {
  const warn = console.warn;
  console.warn = (...args) => {
    if (typeof args[0] === 'string' && EXPECTED_WARNINGS.some((re) => re.test(args[0]))) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

// Imported on first use, so that test runs without SSO never load it.
let Provider;

/** A fresh RS256 signing key as a private JWK (no development keys from the library). */
function signingJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `test-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' }] };
}

/**
 * Starts an OpenID provider on 127.0.0.1 with issuer `http://127.0.0.1:PORT`.
 * `accounts` maps a login name (the account id and `sub`) to `{email, email_verified, name,
 * groups}`. At the provider's login page any password is accepted for a known login name.
 * Returns `{issuer, stop()}`.
 */
export async function startProvider({ clientId, clientSecret, redirectUri, accounts }) {
  // Listen first: the issuer (with its port) must be known before the provider is built.
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = await withoutExpectedWarnings(async () => {
    Provider ??= (await import('oidc-provider')).default;
    return new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      // Required of every client, not only public ones (the library's default).
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
      // Put the claims of the granted scopes (groups included) in the ID token itself.
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: true } },
      // Lifetimes in seconds, long enough for a test (the library asks for them to be set).
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
      jwks: signingJwks(),
      cookies: { keys: [randomBytes(32).toString('hex')] },
      async findAccount(_ctx, id) {
        if (!Object.hasOwn(accounts, id)) return undefined;
        const a = accounts[id];
        return {
          accountId: id,
          async claims() {
            return { sub: id, email: a.email, email_verified: a.email_verified, name: a.name, groups: a.groups };
          },
        };
      },
    });
  });
  // Touch the in-memory adapter now, while its warning is silenced.
  await withoutExpectedWarnings(() => provider.Client.find(clientId));
  // Errors the provider renders (a bad request, say) are shown to the test through the
  // browser; only unexpected server errors are worth printing.
  provider.on('server_error', (_ctx, err) => console.log(`  oidc-provider server error: ${err.stack || err}`));
  handler = provider.callback();

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return { issuer, stop };
}

/**
 * The provider's development pages pull a web font from Google, which this network refuses
 * (a console error). Answer that request with an empty stylesheet instead.
 */
export async function withoutWebFonts(page) {
  await page.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) =>
    route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
  );
}
