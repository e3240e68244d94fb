package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"minidocker/step05-pull/reference"
)

type credential struct{ username, password string }

// challenge is one WWW-Authenticate challenge: scheme "bearer" or "basic"
// and its parameters (realm, service, scope, error).
type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenge reads the first Bearer or Basic challenge of h, e.g.
//
//	WWW-Authenticate: Bearer realm="https://auth.docker.io/token",service="registry.docker.io"
func parseChallenge(h http.Header) (challenge, bool) {
	for _, v := range h.Values("Www-Authenticate") {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		c := challenge{scheme: strings.ToLower(scheme), params: parseParams(rest)}
		if c.scheme == "bearer" || c.scheme == "basic" {
			return c, true
		}
	}
	return challenge{}, false
}

// parseParams parses `k1="v1",k2=v2`, the auth-param list of RFC 9110 §11.2.
func parseParams(s string) map[string]string {
	params := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			return params
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if strings.HasPrefix(rest, `"`) {
			// A quoted string; a backslash escapes the next character.
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val, s = b.String(), rest[min(i+1, len(rest)):]
		} else {
			val, s, _ = strings.Cut(rest, ",")
			val = strings.TrimSpace(val)
		}
		params[key] = val
	}
}

// normaliseHost turns a registry address as users write it ("docker.io",
// "localhost:5000", or "https://index.docker.io/v1/", the key docker login
// writes for Docker Hub) into the key under which credentials are kept. All
// of Docker Hub's names become "docker.io".
func normaliseHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(s), "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "index.docker.io", reference.DockerHubHost:
		return reference.DefaultDomain
	}
	return s
}

// loadDockerConfig reads the "auths" of a Docker config file: base64
// "user:password" in "auth", or separate "username" and "password". A
// missing file is no credentials.
func loadDockerConfig(path string) (map[string]credential, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read docker config: %w", err)
	}
	var cfg struct {
		Auths map[string]struct {
			Auth     string `json:"auth"`
			Username string `json:"username"`
			Password string `json:"password"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("read docker config %s: %w", path, err)
	}
	creds := map[string]credential{}
	for key, a := range cfg.Auths {
		c := credential{username: a.Username, password: a.Password}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("read docker config %s: auth of %q: %w", path, key, err)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("read docker config %s: auth of %q: want base64 of user:password", path, key)
			}
			c = credential{username: user, password: pass}
		}
		if c.username != "" {
			creds[normaliseHost(key)] = c
		}
	}
	return creds, nil
}

// authorize adds the Authorization header that hs's challenge asks for.
// With refresh, a cached token is replaced by a new one.
func (c *Client) authorize(ctx context.Context, hs *hostState, req *http.Request, scope string, refresh bool) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.challenge == nil {
		return nil
	}
	cred, haveCred := c.creds[normaliseHost(hs.host)]
	switch hs.challenge.scheme {
	case "basic":
		if haveCred {
			req.SetBasicAuth(cred.username, cred.password)
		}
	case "bearer":
		token, ok := hs.tokens[scope]
		if !ok || refresh {
			var err error
			if token, err = c.fetchToken(ctx, *hs.challenge, scope, cred, haveCred); err != nil {
				return err
			}
			hs.tokens[scope] = token
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return nil
}

// maxTokenBody bounds the token server's answer.
const maxTokenBody = 1 << 20

// fetchToken asks the token server named by ch's realm for a token valid for
// scope, sending Basic credentials when there are some (Docker Hub hands
// out anonymous tokens for public repositories).
func (c *Client) fetchToken(ctx context.Context, ch challenge, scope string, cred credential, haveCred bool) (string, error) {
	realm, err := url.Parse(ch.params["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") || realm.Host == "" {
		return "", fmt.Errorf("token: invalid realm %q", ch.params["realm"])
	}
	// exercise:begin 05-token GET the realm with ?service=…&scope=… (Basic credentials when haveCred, User-Agent set), expect 200, and decode the JSON body's "token" (or OAuth2's "access_token"); no token is an error
	q := realm.Query()
	if s := ch.params["service"]; s != "" {
		q.Set("service", s)
	}
	for _, s := range strings.Fields(scope) { // a push with a mount needs two
		q.Add("scope", s)
	}
	realm.RawQuery = q.Encode()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	req.Header.Set("User-Agent", UserAgent)
	if haveCred {
		req.SetBasicAuth(cred.username, cred.password)
	}
	resp, err := c.send(req)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: %w", responseError(resp))
	}
	defer resp.Body.Close()
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"` // the OAuth2 name, also accepted
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTokenBody)).Decode(&body); err != nil {
		return "", fmt.Errorf("token: decode %s: %w", redact(realm), err)
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", fmt.Errorf("token: %s returned no token", redact(realm))
	}
	return body.Token, nil
	// exercise:end
}
