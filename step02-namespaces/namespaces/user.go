package namespaces

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// User is who the command runs as, resolved from the container's own
// /etc/passwd and /etc/group (not the host's).
type User struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
	Home           string
}

// ResolveUser turns a docker run --user value ("", "name", "uid",
// "name:group", "uid:gid") into IDs, as Docker does: names are looked up in
// passwd and group (the container's files); a numeric uid that passwd does
// not list is used as is with gid 0; the user's supplementary groups come
// from group. "" is root.
func ResolveUser(spec string, passwd, group io.Reader) (User, error) {
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	u := User{Home: "/"}
	users, err := parseColonFile(passwd, 7)
	if err != nil {
		return User{}, fmt.Errorf("read passwd: %w", err)
	}
	groups, err := parseColonFile(group, 4)
	if err != nil {
		return User{}, fmt.Errorf("read group: %w", err)
	}

	uid, numeric := parseID(userPart)
	found := false
	for _, f := range users { // name:x:uid:gid:gecos:home:shell
		id, ok := parseID(f[2])
		if !ok {
			continue
		}
		if (numeric && id == uid) || (!numeric && f[0] == userPart) {
			gid, _ := parseID(f[3])
			u = User{UID: id, GID: gid, Home: f[5]}
			userPart, found = f[0], true
			break
		}
	}
	switch {
	case !found && !numeric:
		return User{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
	case !found:
		u.UID = uid
	}

	if hasGroup {
		gid, numericGroup := parseID(groupPart)
		foundGroup := numericGroup
		for _, f := range groups { // name:x:gid:members
			if !numericGroup && f[0] == groupPart {
				gid, _ = parseID(f[2])
				foundGroup = true
				break
			}
		}
		if !foundGroup {
			return User{}, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
		}
		u.GID = gid
	}
	for _, f := range groups {
		gid, ok := parseID(f[2])
		if !ok || gid == u.GID {
			continue
		}
		for _, member := range strings.Split(f[3], ",") {
			if member == userPart {
				u.AdditionalGIDs = append(u.AdditionalGIDs, gid)
			}
		}
	}
	return u, nil
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// parseColonFile reads passwd or group lines with at least n fields; a
// missing file (nil reader) is an empty one.
func parseColonFile(r io.Reader, n int) ([][]string, error) {
	if r == nil {
		return nil, nil
	}
	var out [][]string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < n {
			continue
		}
		out = append(out, f)
	}
	return out, sc.Err()
}
