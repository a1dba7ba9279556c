// The API and Cognito: sign-in with the console app client, tokens renewed before they expire.
// The access token is kept for this tab only (sessionStorage); the refresh token in this module's
// memory only, never in storage (docs/decisions/045-the-console-s-access-token-stays-in.md).

const SESSION = "cloison.session";
// Renewed this long before the access token expires: a hidden tab's timers may run a minute late.
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
// After a renewal that could not reach Cognito, tried again this much later.
const RETRY_MS = 30 * 1000;
// Challenges the console answers: a first sign-in's new password, an authenticator app's code.
const CHALLENGES = new Set(["NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA"]);
let config = null;
let refreshToken = null;
let refreshTimer = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function loadConfig() {
  const answer = await fetch("config.json", { cache: "no-store" });
  if (!answer.ok) throw new ApiError(answer.status, { title: "config.json" });
  config = await answer.json();
  return config;
}

function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// The access token and when it expires by this browser's clock (from Cognito's ExpiresIn, so a
// clock set wrong does not end the session early or late).
function stored() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION));
    return typeof session?.token === "string" && typeof session.expiresAt === "number" ? session : null;
  } catch {
    return null;
  }
}

// Who is signed in, from the token's claims: for showing the right pages only; the API decides.
export function currentUser() {
  const session = stored();
  if (!session) return null;
  if (session.expiresAt <= Date.now()) {
    sessionStorage.removeItem(SESSION);
    return null;
  }
  const claims = claimsOf(session.token);
  const groups = claims["cognito:groups"] || [];
  return {
    token: session.token,
    username: claims.username || claims["cognito:username"] || claims.sub,
    teams: groups.filter((g) => g.startsWith("team-")).map((g) => g.slice(5)),
    roles: groups.filter((g) => !g.startsWith("team-")),
  };
}

// One call to Cognito's user pool API; its error (`__type`, e.g. NotAuthorizedException) kept.
async function cognito(action, body) {
  const answer = await fetch(config.auth_url, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const document = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ApiError(answer.status || 400, { title: action, type: document.__type });
  return document;
}

function keep(result) {
  const expiresAt = Date.now() + (result.ExpiresIn || 3600) * 1000;
  sessionStorage.setItem(SESSION, JSON.stringify({ token: result.AccessToken, expiresAt }));
  if (result.RefreshToken) refreshToken = result.RefreshToken;
  renewAt(expiresAt - REFRESH_MARGIN_MS);
}

function renewAt(when) {
  clearTimeout(refreshTimer);
  if (refreshToken) refreshTimer = setTimeout(refresh, Math.max(0, when - Date.now()));
}

// New tokens from the refresh token, one renewal at a time. Refused (revoked, or past its
// validity), the refresh token is dropped and the session ends with its access token; Cognito
// out of reach, it is tried again while the access token lasts. True if renewed.
function refresh() {
  if (!refreshToken) return Promise.resolve(false);
  refreshing ??= cognito("InitiateAuth", {
    AuthFlow: "REFRESH_TOKEN_AUTH",
    ClientId: config.client_id,
    AuthParameters: { REFRESH_TOKEN: refreshToken },
  })
    .then((document) => {
      keep(document.AuthenticationResult);
      return true;
    })
    .catch((failure) => {
      if (failure instanceof ApiError) refreshToken = null;
      else renewAt(Date.now() + RETRY_MS);
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

// Renews the tokens now if they are about to expire (a timer that came late, a tab woken up).
export async function freshen() {
  const session = stored();
  if (session && session.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refresh();
}

// Forgets the tokens and asks Cognito to revoke the refresh token (and the access tokens it gave).
export async function signOut() {
  clearTimeout(refreshTimer);
  const token = refreshToken;
  refreshToken = null;
  sessionStorage.removeItem(SESSION);
  if (token) await cognito("RevokeToken", { Token: token, ClientId: config.client_id }).catch(() => {});
}

// Signed in ({user}), or a challenge to answer first ({challenge}); anything else is refused.
function settle(document, username) {
  if (document.AuthenticationResult) {
    keep(document.AuthenticationResult);
    return { user: currentUser() };
  }
  if (CHALLENGES.has(document.ChallengeName)) {
    return { challenge: { name: document.ChallengeName, session: document.Session, username } };
  }
  throw new ApiError(400, { title: "sign-in", type: "UnsupportedChallenge" });
}

export async function signIn(username, password) {
  const document = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: config.client_id,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
  return settle(document, username);
}

// Answers a challenge: `responses` is {NEW_PASSWORD} or {SOFTWARE_TOKEN_MFA_CODE}.
export async function answerChallenge(challenge, responses) {
  const document = await cognito("RespondToAuthChallenge", {
    ChallengeName: challenge.name,
    ClientId: config.client_id,
    Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.username, ...responses },
  });
  return settle(document, challenge.username);
}

// One API call; a problem document (RFC 9457) becomes an ApiError.
export async function call(method, path, options = {}, retried = false) {
  const { json, query, contentType } = options;
  let { body } = options;
  await freshen();
  const user = currentUser();
  const headers = { Accept: "application/json" };
  if (user) headers.Authorization = user.token;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let url = config.api_url + path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.append(name, value);
  }
  if ([...params].length) url += `?${params}`;
  const answer = await fetch(url, { method, headers, body });
  const document = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    // A token refused before its time (revoked, or a clock far off): renewed once, else dropped.
    if (answer.status === 401 && !retried && (await refresh())) return call(method, path, options, true);
    if (answer.status === 401) sessionStorage.removeItem(SESSION);
    throw new ApiError(answer.status, document);
  }
  return document;
}
