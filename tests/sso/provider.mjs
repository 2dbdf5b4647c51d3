// A real OpenID provider for the single sign-on tests: the certified npm `oidc-provider`.
//
// Started by tests/sso/conftest.py (`node tests/sso/provider.mjs`) on a free port of 127.0.0.1,
// with its own RSA signing key made at start-up. It prints one line, `READY <issuer>`, once it
// answers. People sign in through its development login form (any password); who they are and
// what their ID token says is set by the tests:
//
//   POST /_test/accounts/<login>   {"claims": {...}, "mode": "..."}   claims of that person
//
// `mode` makes the token endpoint hand MAF a bad ID token for that person, as an attacker or a
// broken proxy would: "bad-signature" (one byte of the signature changed), "other-key" (signed
// with a key the provider never published, under the published key's id), "wrong-audience",
// "wrong-issuer", "expired" (expired an hour ago) or "wrong-nonce" (each re-signed with the
// provider's real key, so only that one claim is wrong).
//
// Clients register themselves (dynamic registration, RFC 7591), so each test's live server gets
// a client for its own redirect URI.

import { createServer } from 'node:http';
import { generateKeyPairSync, sign } from 'node:crypto';

import Provider from 'oidc-provider';

const KID = 'maf-test-key';
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const accounts = new Map();

const base64url = (value) => Buffer.from(value).toString('base64url');
const decodePart = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

function signJwt(header, payload, key) {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function spoil(idToken, mode) {
  const [headerPart, payloadPart, signature] = idToken.split('.');
  const header = decodePart(headerPart);
  const payload = decodePart(payloadPart);
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'bad-signature': {
      const bytes = Buffer.from(signature, 'base64url');
      bytes[10] ^= 0xff;
      return `${headerPart}.${payloadPart}.${bytes.toString('base64url')}`;
    }
    case 'other-key':
      return signJwt(header, payload, strangerKey);
    case 'wrong-audience':
      // Minted for another service, naming MAF only as the "authorised party".
      return signJwt(header, { ...payload, aud: 'another-service', azp: payload.aud }, signingKey);
    case 'wrong-issuer':
      return signJwt(header, { ...payload, iss: 'https://impostor.example' }, signingKey);
    case 'expired':
      return signJwt(header, { ...payload, iat: now - 7200, exp: now - 3600 }, signingKey);
    case 'wrong-nonce':
      return signJwt(header, { ...payload, nonce: 'forged-nonce' }, signingKey);
    default:
      return idToken;
  }
}

async function readJson(request) {
  let body = '';
  for await (const chunk of request) body += chunk;
  return JSON.parse(body || '{}');
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...signingKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' }] },
    cookies: { keys: ['maf-test-cookie-key'] },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: true },
    },
    // Entra ID's claims as MAF reads them: the tenant (tid) and whether the email's domain is
    // verified by its tenant (xms_edov) beside OpenID's own.
    claims: {
      openid: ['sub', 'tid', 'xms_edov'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // The claims go in the ID token itself, as Entra ID puts them, not only at /userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    responseTypes: ['code'],
    async findAccount(ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, async claims() { return { ...account.claims, sub: id }; } };
    },
    // A first-party client: no consent screen, only the login form.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username', 'tid', 'xms_edov']);
      await grant.save();
      return grant;
    },
  });
  provider.proxy = false;

  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/_test\/accounts\/(.+)$/);
    if (match && ctx.method === 'POST') {
      const { claims = {}, mode = null } = await readJson(ctx.req);
      accounts.set(decodeURIComponent(match[1]), { claims, mode });
      ctx.status = 204;
      return;
    }
    await next();
    if (ctx.path === '/token' && ctx.body && ctx.body.id_token) {
      const { sub } = decodePart(ctx.body.id_token.split('.')[1]);
      const mode = accounts.get(sub)?.mode;
      if (mode) ctx.body = { ...ctx.body, id_token: spoil(ctx.body.id_token, mode) };
    }
  });

  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
