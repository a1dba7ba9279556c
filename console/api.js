// The API and Cognito: sign-in with the console app client, the token kept for this tab only.

const SESSION = "cloison.session";
let config = null;

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

// Who is signed in, from the token's claims: for showing the right pages only; the API decides.
export function currentUser() {
  const raw = sessionStorage.getItem(SESSION);
  if (!raw) return null;
  const { token } = JSON.parse(raw);
  const claims = claimsOf(token);
  if (claims.exp * 1000 <= Date.now()) {
    signOut();
    return null;
  }
  const groups = claims["cognito:groups"] || [];
  return {
    token,
    username: claims.username || claims["cognito:username"] || claims.sub,
    teams: groups.filter((g) => g.startsWith("team-")).map((g) => g.slice(5)),
    roles: groups.filter((g) => !g.startsWith("team-")),
  };
}

export function signOut() {
  sessionStorage.removeItem(SESSION);
}

export async function signIn(username, password) {
  const answer = await fetch(config.auth_url, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.client_id,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  });
  const document = await answer.json().catch(() => ({}));
  const result = document.AuthenticationResult;
  if (!answer.ok || !result) {
    throw new ApiError(answer.status || 400, { title: "sign-in", type: document.__type });
  }
  sessionStorage.setItem(SESSION, JSON.stringify({ token: result.AccessToken }));
  return currentUser();
}

// One API call; a problem document (RFC 9457) becomes an ApiError.
export async function call(method, path, { json, body, contentType, query } = {}) {
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
    if (answer.status === 401) signOut();
    throw new ApiError(answer.status, document);
  }
  return document;
}
