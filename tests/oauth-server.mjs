// A real OAuth2 authorization server (oidc-provider) for mailer's tests, whose
// JWT access tokens the Dovecot of tests/mailstack.sh validates by itself.
// tests/oauth-server.sh installs, starts and drives it; run it by hand as
//
//   OAUTH_PORT=8080 OAUTH_KEYDIR=STACK/dovecot/keys node tests/oauth-server.mjs
//
// Environment:
//   OAUTH_PORT          port on 127.0.0.1 (required); the issuer is http://127.0.0.1:PORT
//   OAUTH_KEYDIR        Dovecot's local_validation_key_dict directory (required): the
//                       public key goes to KEYDIR/default/RS256/KID
//   OAUTH_MODULES       the directory holding node_modules/oidc-provider
//                       (default: target/oauth-server of this repository)
//   OAUTH_DOMAIN        added to a login name without one (default example.test)
//   OAUTH_ACCESS_TTL    access token lifetime in seconds (default 3600)
//   OAUTH_REFRESH_TTL   refresh token lifetime in seconds (default 14 days)
//   OAUTH_ROTATE        1 (default): every refresh returns a new refresh token and
//                       consumes the old one; 0: the refresh token stays the same
//
// Clients: mailer-test (public, native) and mailer-secret (secret
// mailer-secret-pw, client_secret_basic or client_secret_post), both with
// authorization_code (PKCE S256 required), refresh_token and device_code, and
// the redirect http://127.0.0.1/ on any port.
// Prints one line on stdout when listening; logs requests, without token
// values or query strings, to stderr. Exits 98 if the port is taken.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = process.env;
const log = (...a) => console.error(new Date().toISOString(), ...a);

function die(msg) {
  console.error(`oauth-server: ${msg}`);
  process.exit(1);
}

const port = Number(env.OAUTH_PORT);
if (!Number.isInteger(port) || port <= 0 || port > 65535) die('OAUTH_PORT must be a port number');
if (!env.OAUTH_KEYDIR) die('OAUTH_KEYDIR must name Dovecot\'s key directory');
const seconds = (name, dflt) => {
  const v = env[name] === undefined || env[name] === '' ? dflt : Number(env[name]);
  if (!Number.isInteger(v) || v <= 0) die(`${name} must be a positive number of seconds`);
  return v;
};
const accessTTL = seconds('OAUTH_ACCESS_TTL', 3600);
const refreshTTL = seconds('OAUTH_REFRESH_TTL', 14 * 24 * 3600);
const rotate = (env.OAUTH_ROTATE ?? '1') !== '0';
const domain = env.OAUTH_DOMAIN || 'example.test';
const modules = env.OAUTH_MODULES || path.join(here, '..', 'target', 'oauth-server');

// An ESM import resolves from this file's directory, not from node_modules
// elsewhere, so the package is loaded by its path.
const entry = path.join(modules, 'node_modules', 'oidc-provider', 'lib', 'index.js');
if (!fs.existsSync(entry)) die(`no oidc-provider in ${modules}: run tests/oauth-server.sh install`);
const { default: Provider, errors } = await import(pathToFileURL(entry).href);

const issuer = `http://127.0.0.1:${port}`;
// The one resource server: Dovecot. Tokens carry it as their audience.
const RESOURCE = 'urn:mailer-test:mail';

// A fresh key per start. A kid of hex digits only: Dovecot escapes '.', '/'
// and '%' in the kid before using it as a file name.
const kid = crypto.randomBytes(8).toString('hex');
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
// Dovecot looks keys up by the token's azp (oidc-provider sets none, so
// "default"), alg and kid; its auth process, not root, reads them.
const keyDir = path.join(env.OAUTH_KEYDIR, 'default', 'RS256');
const keyFile = path.join(keyDir, kid);
function writePublicKey() {
  fs.mkdirSync(keyDir, { recursive: true });
  for (const d of [path.join(env.OAUTH_KEYDIR, 'default'), keyDir]) fs.chmodSync(d, 0o755);
  fs.writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  fs.chmodSync(keyFile, 0o644);
}

const grants = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'];
const clientCommon = {
  application_type: 'native',
  grant_types: grants,
  response_types: ['code'],
  redirect_uris: ['http://127.0.0.1/'],
};

const normalizeUser = (login) => {
  const user = String(login ?? '').trim().toLowerCase();
  if (!/^[a-z0-9._+-]+(@[a-z0-9.-]+)?$/.test(user)) return null;
  return user.includes('@') ? user : `${user}@${domain}`;
};

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A plain page whose <pre id="error"> holds "error: description", for approve
// to print.
function errorPage(ctx, error, description) {
  ctx.type = 'html';
  ctx.body = `<!DOCTYPE html><html><head><title>error</title></head><body>
<pre id="error">${escapeHtml(error)}: ${escapeHtml(description ?? '')}</pre>
</body></html>\n`;
}

const provider = new Provider(issuer, {
  clients: [
    { ...clientCommon, client_id: 'mailer-test', token_endpoint_auth_method: 'none' },
    {
      ...clientCommon,
      client_id: 'mailer-secret',
      client_secret: 'mailer-secret-pw',
      // oidc-provider takes client_secret_post from it as well.
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'] },
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  pkce: { required: () => true },
  // Whatever the client asked for, it gets a refresh token if it may use one,
  // and that token outlives the login session.
  issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: () => false,
  rotateRefreshToken: () => rotate,
  ttl: {
    AccessToken: () => accessTTL,
    RefreshToken: () => refreshTTL,
    // The rest are oidc-provider's defaults, given to quiet its warnings.
    AuthorizationCode: 60,
    DeviceCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: {
      enabled: true,
      // oidc-provider's own rule: a client revokes only its own tokens.
      allowedPolicy: (ctx, client, token) => token.clientId === client.clientId,
    },
    introspection: {
      enabled: true,
      allowedPolicy: (ctx, client, token) => token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      // So that the client need not send resource=: every token is for Dovecot.
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: 'mail',
          audience: RESOURCE,
          accessTokenTTL: accessTTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  formats: {
    customizers: {
      // Dovecot 2.3.19 takes only typ "JWT": oidc-provider's "at+jwt" (RFC 9068)
      // fails with "Local validation failed: Cannot find 'typ' field".
      jwt: (ctx, token, jwt) => {
        jwt.header = { typ: 'JWT' };
      },
    },
  },
  renderError: (ctx, out) => errorPage(ctx, out.error, out.error_description),
});

for (const event of ['server_error', 'authorization.error', 'grant.error', 'revocation.error',
  'introspection.error', 'device_authorization.error', 'end_session.error']) {
  provider.on(event, (...args) => {
    const err = args.find((a) => a instanceof Error);
    // error_detail holds the reason, such as "refresh token already used".
    const why = [err?.error_description, err?.error_detail].filter(Boolean).join(': ');
    log(`${event}: ${err?.name}: ${err?.message}${why ? ` (${why})` : ''}`);
  });
}
provider.on('grant.success', (ctx) => log(`grant.success: ${ctx.oidc.params.grant_type} for ${ctx.oidc.client?.clientId}`));

function loginPage(uid, details, error) {
  const client = escapeHtml(details.params.client_id);
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in to ${client}</h1>
${error ? `<pre id="error">${escapeHtml(error)}</pre>` : ''}
<p>Scope: ${escapeHtml(details.params.scope ?? '')}</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<input type="text" name="login" placeholder="alice or alice@${escapeHtml(domain)}" autofocus>
<button type="submit">Sign in and allow</button>
</form></body></html>\n`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65536) throw new errors.InvalidRequest('form too large');
  }
  return new URLSearchParams(body);
}

// The interaction pages: one form that logs the user in and grants mail (and
// openid, offline_access if asked for), so that a browser, or approve, goes
// straight on to the client's redirect.
async function interactions(ctx, next) {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(ctx.path);
  if (!m) return next();
  try {
    return await interaction(ctx, next, m[1], m[2]);
  } catch (err) {
    // Such as an expired interaction: shown like oidc-provider's own errors.
    if (!(err instanceof errors.OIDCProviderError)) throw err;
    log(`interaction.error: ${err.name}: ${err.message} (${err.error_description})`);
    ctx.status = err.statusCode;
    errorPage(ctx, err.error, err.error_description);
    return undefined;
  }
}

async function interaction(ctx, next, uid, login) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) throw new errors.InvalidRequest('interaction does not match its cookie');
  ctx.type = 'html';
  if (!login && ctx.method === 'GET') {
    ctx.body = loginPage(details.uid, details);
    return undefined;
  }
  if (!login || ctx.method !== 'POST') return next();
  const accountId = normalizeUser((await readForm(ctx.req)).get('login'));
  if (!accountId) {
    ctx.status = 400;
    ctx.body = loginPage(details.uid, details, `enter a user name such as alice or alice@${domain}`);
    return undefined;
  }
  const clientId = details.params.client_id;
  // Logging in as someone else than the session's user starts a new grant.
  let grant = details.grantId && details.session?.accountId === accountId
    ? await provider.Grant.find(details.grantId) : undefined;
  grant ??= new provider.Grant({ accountId, clientId });
  const oidcScopes = (details.params.scope ?? '').split(' ').filter((s) => ['openid', 'offline_access'].includes(s));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  grant.addResourceScope(RESOURCE, 'mail');
  const grantId = await grant.save();
  log(`login: ${accountId} for ${clientId}`);
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.set('Location', returnTo);
  ctx.body = '';
  return undefined;
}

// Paths only: queries and bodies may hold codes and tokens.
provider.use(async (ctx, next) => {
  const start = Date.now();
  try {
    await next();
  } finally {
    log(`${ctx.method} ${ctx.path} ${ctx.status} ${Date.now() - start}ms`);
  }
});
provider.use(interactions);

const server = http.createServer(provider.callback());
server.on('error', (err) => {
  console.error(`oauth-server: cannot listen on 127.0.0.1:${port}: ${err.message}`);
  process.exit(err.code === 'EADDRINUSE' ? 98 : 1);
});
// Only once the port is ours, so that a start retried on another port leaves
// no stray key behind.
server.listen(port, '127.0.0.1', () => {
  writePublicKey();
  console.log(`oauth-server: listening on ${issuer} (key ${keyFile}, access token TTL ${accessTTL}s, refresh token rotation ${rotate ? 'on' : 'off'})`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections());
}
