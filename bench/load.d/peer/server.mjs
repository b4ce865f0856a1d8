// The peer of bench/load: node's oidc-provider (pinned in package.json), configured like the
// bench realm's `bench-cc` client: a confidential client authenticating with HTTP Basic and
// allowed the client_credentials grant; access tokens are JWTs (resource indicators with a
// default resource whose accessTokenFormat is 'jwt'), signed RS256 with a 2048-bit key made
// once beforehand (jwks.json, written by bench/load). In-memory storage (the default adapter),
// NODE_ENV=production, listening on 127.0.0.1:$PORT. Discovery at
// /.well-known/openid-configuration, JWKS at /jwks, token endpoint at /token.
import Provider from 'oidc-provider';
import { readFileSync } from 'node:fs';

const port = Number(process.env.PORT);
const jwks = JSON.parse(readFileSync(new URL('./jwks.json', import.meta.url), 'utf8'));
const resource = 'urn:bench:api';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'bench-cc',
      client_secret: 'bench-cc-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks,
  cookies: { keys: ['bench-load-cookie-key'] },
  scopes: ['openid', 'api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async () => ({
        scope: 'api',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  findAccount: async () => undefined,
});
provider.listen(port, '127.0.0.1');
