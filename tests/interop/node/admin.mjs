// The official @keycloak/keycloak-admin-client against Portcullis: the provisioning journey a
// platform script runs, logged in as start-dev's development admin on master's admin-cli.
// Every step is checked against what the server then answers (and against tokens it issues);
// the first mismatch exits non-zero. Usage: node admin.mjs '{"base": "http://127.0.0.1:P/auth",
// "realm": "interop", "tokenClient": "backend", "tokenSecret": "backend-secret"}'
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";

const cfg = JSON.parse(process.argv[2] ?? "{}");
for (const k of ["base", "realm", "tokenClient", "tokenSecret"]) {
  if (!cfg[k]) {
    console.error(`admin.mjs: missing "${k}" in the configuration argument`);
    process.exit(2);
  }
}

const step = (what) => console.log(`- ${what}`);

/** Claims of an access token from the password grant of the realm's test client. */
async function claimsOf(username, password) {
  const res = await fetch(`${cfg.base}/realms/${cfg.realm}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "password",
      client_id: cfg.tokenClient,
      client_secret: cfg.tokenSecret,
      username,
      password,
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `password grant for ${username}: ${JSON.stringify(body)}`);
  return JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
}

/** Claims of a client_credentials access token. */
async function serviceClaims(clientId, secret) {
  const res = await fetch(`${cfg.base}/realms/${cfg.realm}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "Basic " + Buffer.from(`${clientId}:${secret}`).toString("base64"),
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `client_credentials for ${clientId}: ${JSON.stringify(body)}`);
  return JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString());
}

const kc = new KcAdminClient({ baseUrl: cfg.base, realmName: "master" });
await kc.auth({ username: "admin", password: "admin", grantType: "password", clientId: "admin-cli" });
kc.setConfig({ realmName: cfg.realm });
step("logged in on master's admin-cli");

// --- users, passwords, groups, realm and client roles ---
const { id: userId } = await kc.users.create({
  username: "kac-user",
  email: "kac@example.com",
  firstName: "Admin",
  lastName: "Client",
  enabled: true,
});
assert.ok(userId, "users.create returns the new id");
step("created a user");

await kc.users.resetPassword({
  id: userId,
  credential: { type: "password", value: "kac-password", temporary: false },
});
step("set its password");

const { id: groupId } = await kc.groups.create({ name: "kac-group" });
await kc.users.addToGroup({ id: userId, groupId });
const groups = await kc.users.listGroups({ id: userId });
assert.deepEqual(groups.map((g) => g.path), ["/kac-group"]);
step("put it in a group");

await kc.roles.create({ name: "kac-role" });
const realmRole = await kc.roles.findOneByName({ name: "kac-role" });
assert.equal(realmRole.name, "kac-role");
await kc.users.addRealmRoleMappings({
  id: userId,
  roles: [{ id: realmRole.id, name: realmRole.name }],
});
const realmMappings = await kc.users.listRealmRoleMappings({ id: userId });
assert.ok(realmMappings.some((r) => r.name === "kac-role"), "realm role mapped");
step("mapped a realm role");

const [tokenClient] = await kc.clients.find({ clientId: cfg.tokenClient });
assert.equal(tokenClient.clientId, cfg.tokenClient);
await kc.clients.createRole({ id: tokenClient.id, name: "kac-client-role" });
const clientRole = await kc.clients.findRole({ id: tokenClient.id, roleName: "kac-client-role" });
assert.equal(clientRole.name, "kac-client-role");
await kc.users.addClientRoleMappings({
  id: userId,
  clientUniqueId: tokenClient.id,
  roles: [{ id: clientRole.id, name: clientRole.name }],
});
const clientMappings = await kc.users.listClientRoleMappings({
  id: userId,
  clientUniqueId: tokenClient.id,
});
assert.deepEqual(clientMappings.map((r) => r.name), ["kac-client-role"]);
step("mapped a client role");

const claims = await claimsOf("kac-user", "kac-password");
assert.equal(claims.preferred_username, "kac-user");
assert.ok(claims.realm_access.roles.includes("kac-role"), JSON.stringify(claims.realm_access));
assert.deepEqual(claims.resource_access?.[cfg.tokenClient]?.roles, ["kac-client-role"]);
step("the user's token carries both roles");

const found = await kc.users.find({ search: "kac" });
assert.deepEqual(found.map((u) => u.username), ["kac-user"]);
assert.equal(await kc.users.count({ search: "kac" }), 1);
const byEmail = await kc.users.find({ email: "kac@example.com", exact: true });
assert.deepEqual(byEmail.map((u) => u.id), [userId]);
step("searched");

await kc.users.update({ id: userId }, { firstName: "Changed", email: "kac@example.com" });
const updated = await kc.users.findOne({ id: userId });
assert.equal(updated.firstName, "Changed");
assert.equal(updated.lastName, "Client");
step("updated");

await kc.users.del({ id: userId });
// The client turns the 404 into an empty answer.
assert.equal((await kc.users.findOne({ id: userId })) ?? null, null, "deleted user is gone");
await kc.groups.del({ id: groupId });
await kc.roles.delByName({ name: "kac-role" });
await kc.clients.delRole({ id: tokenClient.id, roleName: "kac-client-role" });
step("deleted the user, its group and roles");

// --- a client with a mapper, and its secret ---
const { id: appId } = await kc.clients.create({
  clientId: "kac-app",
  publicClient: false,
  serviceAccountsEnabled: true,
  standardFlowEnabled: false,
  protocolMappers: [
    {
      name: "team",
      protocol: "openid-connect",
      protocolMapper: "oidc-hardcoded-claim-mapper",
      config: {
        "claim.name": "team",
        "claim.value": "platform",
        "jsonType.label": "String",
        "access.token.claim": "true",
      },
    },
  ],
});
assert.ok(appId, "clients.create returns the new id");
await kc.clients.addProtocolMapper(
  { id: appId },
  {
    name: "tier",
    protocol: "openid-connect",
    protocolMapper: "oidc-hardcoded-claim-mapper",
    config: {
      "claim.name": "tier",
      "claim.value": "gold",
      "jsonType.label": "String",
      "access.token.claim": "true",
    },
  },
);
const mappers = await kc.clients.listProtocolMappers({ id: appId });
assert.deepEqual(mappers.map((m) => m.name).sort(), ["team", "tier"]);
step("created a client with a mapper and added one");

const secret = await kc.clients.getClientSecret({ id: appId });
assert.equal(secret.type, "secret");
assert.ok(secret.value && secret.value.length >= 16, "a generated secret");
const service = await serviceClaims("kac-app", secret.value);
assert.equal(service.team, "platform");
assert.equal(service.tier, "gold");
step("read its secret; its token carries both mapped claims");

await kc.clients.del({ id: appId });
assert.deepEqual(await kc.clients.find({ clientId: "kac-app" }), []);
step("deleted the client");

console.log("keycloak-admin-client: all checks passed");
