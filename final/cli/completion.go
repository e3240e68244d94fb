package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"minidocker/final/state"
)

// Completion and examples. cobra writes the shells' scripts (minidocker
// completion bash|zsh|fish|powershell): each asks the binary itself,
// `minidocker __complete start ""`, for the words that may come next. The
// commands that take containers, images or volumes answer with their
// names, read through the engine (or the daemon with -H), as the docker
// CLI's completion does: start offers the stopped containers, stop the
// running ones, rm all. A completion never fails loudly: no answer is an
// empty list.

// argKind is what a command's arguments name.
type argKind int

const (
	anyContainer argKind = iota
	runningContainer
	stoppedContainer
	pausedContainer
	imageRef
	volumeName
)

// commandArgs: what each command's arguments name, and whether only the
// first one does (exec CONTAINER COMMAND...) or every one (rm CONTAINER...).
var commandArgs = map[string]struct {
	kind      argKind
	firstOnly bool
}{
	"attach": {runningContainer, true}, "cp": {anyContainer, true}, "exec": {runningContainer, true},
	"inspect": {anyContainer, false}, "kill": {runningContainer, false}, "logs": {anyContainer, true},
	"pause": {runningContainer, false}, "port": {anyContainer, true}, "rename": {anyContainer, true},
	"restart": {anyContainer, false}, "rm": {anyContainer, false}, "start": {stoppedContainer, false},
	"stats": {runningContainer, false}, "stop": {runningContainer, false}, "top": {runningContainer, true},
	"unpause": {pausedContainer, false}, "wait": {anyContainer, false},
	"run": {imageRef, true}, "rmi": {imageRef, false}, "images": {imageRef, true},
	"volume inspect": {volumeName, false}, "volume rm": {volumeName, false},
	"tag": {imageRef, true}, "push": {imageRef, true}, "save": {imageRef, false},
	"network connect": {anyContainer, false}, "network disconnect": {anyContainer, false},
}

// examples are the commands' examples, as docker's reference shows them.
var examples = map[string]string{
	"attach":             "  minidocker run -dit --name web busybox sh\n  minidocker attach web                     # Ctrl-P Ctrl-Q detaches\n  minidocker attach --detach-keys ctrl-x web",
	"daemon":             "  minidocker daemon -H unix:///run/minidocker.sock\n  DOCKER_HOST=unix:///run/minidocker.sock docker ps",
	"exec":               "  minidocker exec web cat /etc/hostname\n  minidocker exec -it web sh",
	"images":             "  minidocker images\n  minidocker images busybox",
	"inspect":            "  minidocker inspect web\n  minidocker inspect busybox",
	"kill":               "  minidocker kill web\n  minidocker kill -s HUP web",
	"logs":               "  minidocker logs web\n  minidocker logs -f --tail 10 web",
	"pause":              "  minidocker pause web",
	"port":               "  minidocker port web",
	"ps":                 "  minidocker ps\n  minidocker ps -a",
	"pull":               "  minidocker pull busybox\n  minidocker pull httpd:2.4",
	"rename":             "  minidocker rename web site",
	"restart":            "  minidocker restart web\n  minidocker restart -t 2 web",
	"rm":                 "  minidocker rm web\n  minidocker rm -f web",
	"rmi":                "  minidocker rmi busybox",
	"runtime":            "  cd mybundle && minidocker runtime run demo   # a config.json and its rootfs\n  dockerd --add-runtime minidocker=/usr/local/bin/minidocker-runtime",
	"run":                "  minidocker run --rm busybox echo hello\n  minidocker run -d --name web -p 8080:80 httpd\n  minidocker run -it busybox sh              # Ctrl-P Ctrl-Q detaches",
	"search":             "  minidocker search httpd",
	"start":              "  minidocker start web",
	"stats":              "  minidocker stats\n  minidocker stats --no-stream --all",
	"stop":               "  minidocker stop web\n  minidocker stop -t 0 web",
	"top":                "  minidocker top web",
	"unpause":            "  minidocker unpause web",
	"volume":             "  minidocker volume create data\n  minidocker run -v data:/data busybox ls /data",
	"wait":               "  minidocker wait web",
	"volume create":      "  minidocker volume create data",
	"volume ls":          "  minidocker volume ls",
	"volume inspect":     "  minidocker volume inspect data",
	"volume rm":          "  minidocker volume rm data",
	"volume prune":       "  minidocker volume prune -a",
	"container":          "  minidocker container prune -f",
	"container prune":    "  minidocker container prune\n  minidocker container prune -f --filter until=24h",
	"image":              "  minidocker image prune -a -f",
	"image prune":        "  minidocker image prune\n  minidocker image prune -a -f",
	"builder":            "  minidocker builder prune -f",
	"builder prune":      "  minidocker builder prune\n  minidocker builder prune -f",
	"system":             "  minidocker system df\n  minidocker system prune -f",
	"system df":          "  minidocker system df\n  minidocker system df -v",
	"system prune":       "  minidocker system prune\n  minidocker system prune -a --volumes -f",
	"network":            "  minidocker network create app\n  minidocker run -d --name db --network app busybox sleep 1d\n  minidocker run --rm --network app busybox ping -c1 db",
	"network create":     "  minidocker network create app\n  minidocker network create --subnet 10.10.0.0/24 --internal backend",
	"network ls":         "  minidocker network ls",
	"network inspect":    "  minidocker network inspect app",
	"network rm":         "  minidocker network rm app",
	"network connect":    "  minidocker network connect --alias cache app web",
	"network disconnect": "  minidocker network disconnect app web",
	"network prune":      "  minidocker network prune -f",
	"completion": "  source <(minidocker completion bash)\n  minidocker completion zsh > \"${fpath[1]}/_minidocker\"\n" +
		"  minidocker completion fish > ~/.config/fish/completions/minidocker.fish",
}

// addCompletion gives the commands under root their examples and their
// arguments' completion.
func (a *app) addCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd() // now, so that it gets its example too
	var walk func(c *cobra.Command, prefix string)
	walk = func(c *cobra.Command, prefix string) {
		for _, sub := range c.Commands() {
			name := strings.TrimSpace(prefix + " " + sub.Name())
			if ex, ok := examples[name]; ok && sub.Example == "" {
				sub.Example = ex
			}
			if args, ok := commandArgs[name]; ok && sub.ValidArgsFunction == nil {
				sub.ValidArgsFunction = a.completeNames(args.kind, args.firstOnly)
			}
			walk(sub, name)
		}
	}
	walk(root, "")
}

// completeNames completes the names of kind, not those given already.
func (a *app) completeNames(kind argKind, firstOnly bool) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if firstOnly && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault // the command's own words, or a path (cp's host side)
		}
		names := a.names(kind)
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) && !slices.Contains(args, n) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// names are the names of kind, nil when they cannot be read.
func (a *app) names(kind argKind) []string {
	if a.root == "" {
		return nil
	}
	e, err := a.engine()
	if err != nil {
		return nil
	}
	var out []string
	switch kind {
	case imageRef:
		imgs, err := e.Images()
		if err != nil {
			return nil
		}
		for _, img := range imgs {
			for _, tag := range img.RepoTags {
				out = append(out, strings.TrimPrefix(strings.TrimPrefix(tag, "docker.io/"), "library/"))
			}
		}
	case volumeName:
		vols, err := e.Volumes()
		if err != nil {
			return nil
		}
		for _, v := range vols {
			out = append(out, v.Name)
		}
	default:
		list, err := e.List(true)
		if err != nil {
			return nil
		}
		for _, c := range list {
			if wanted(kind, c) {
				out = append(out, c.Name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// wanted: the containers a command of kind may take.
func wanted(kind argKind, c *state.Container) bool {
	switch kind {
	case runningContainer:
		return c.State.Running && !c.State.Paused
	case stoppedContainer:
		return !c.State.Running
	case pausedContainer:
		return c.State.Paused
	}
	return true
}
