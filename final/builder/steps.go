package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// command runs one instruction of a stage.
func (b *build) command(ctx context.Context, s *state, cmd instructions.Command, final bool) error {
	line := lineOf(cmd.Location())
	fail := func(err error) error { return &Error{File: b.file, Line: line, Err: err} }
	fmt.Fprintf(b.out, "Step %d/%d : %s\n", b.step, b.total, source(cmd))
	env := shell.EnvsFromSlice(s.env())
	expand := func(word string) (string, error) {
		w, _, err := b.lex.ProcessWord(word, env)
		return w, err
	}
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := ex.Expand(expand); err != nil {
			return fail(err)
		}
	}
	parent := s.img.ID.String()
	meta := func(change func(c *ocispec.Image) error, text string) error {
		return b.commit(s, key(parent, text), final, func() (string, ocispec.Image, func(), error) {
			cfg := cloneConfig(s.img.Config)
			if err := change(&cfg); err != nil {
				return "", cfg, nil, fail(err)
			}
			b.history(&cfg, "/bin/sh -c #(nop) "+text, true)
			return "", cfg, nil, nil
		})
	}
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		return meta(func(cfg *ocispec.Image) error {
			for _, kv := range c.Env {
				cfg.Config.Env = setEnv(cfg.Config.Env, kv.Key, kv.Value)
			}
			return nil
		}, "ENV "+kvText(c.Env))
	case *instructions.LabelCommand:
		return meta(func(cfg *ocispec.Image) error {
			if cfg.Config.Labels == nil {
				cfg.Config.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				cfg.Config.Labels[kv.Key] = kv.Value
			}
			return nil
		}, "LABEL "+kvText(c.Labels))
	case *instructions.ArgCommand:
		// An ARG is the stage's variable, not the image's: no step of its
		// own in the image, only for the steps after it (and their keys).
		for _, kv := range c.Args {
			v, set := b.o.BuildArgs[kv.Key]
			if !set {
				if mv, ok := b.meta[kv.Key]; ok && kv.Value == nil {
					v = mv
				} else if kv.Value != nil {
					v = *kv.Value
				}
			}
			s.args[kv.Key] = v
		}
		fmt.Fprintf(b.out, " ---> %s\n", short(s.img.ID))
		return nil
	case *instructions.WorkdirCommand:
		dir := c.Path
		if !path.IsAbs(dir) {
			dir = path.Join("/", s.img.Config.Config.WorkingDir, dir)
		}
		// The directory is made, as Docker does, so that the next RUN can
		// start there: a layer if it was not there, none if it was.
		dir = path.Clean(dir)
		text := "WORKDIR " + dir
		return b.commit(s, key(parent, text), final, func() (string, ocispec.Image, func(), error) {
			upper, done, err := b.be.Changes(s.img, func(r *os.Root) error {
				if dir == "/" {
					return nil
				}
				return r.MkdirAll(strings.TrimPrefix(dir, "/"), 0o755)
			})
			if err != nil {
				return "", ocispec.Image{}, done, fail(err)
			}
			cfg := cloneConfig(s.img.Config)
			cfg.Config.WorkingDir = dir
			if entries, _ := os.ReadDir(upper); len(entries) == 0 {
				upper = "" // it was there: nothing changed
			}
			b.history(&cfg, "/bin/sh -c #(nop) "+text, upper == "")
			return upper, cfg, done, nil
		})
	case *instructions.UserCommand:
		return meta(func(cfg *ocispec.Image) error { cfg.Config.User = c.User; return nil }, "USER "+c.User)
	case *instructions.ExposeCommand:
		return meta(func(cfg *ocispec.Image) error {
			if cfg.Config.ExposedPorts == nil {
				cfg.Config.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range c.Ports {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				cfg.Config.ExposedPorts[p] = struct{}{}
			}
			return nil
		}, "EXPOSE "+strings.Join(c.Ports, " "))
	case *instructions.StopSignalCommand:
		return meta(func(cfg *ocispec.Image) error { cfg.Config.StopSignal = c.Signal; return nil }, "STOPSIGNAL "+c.Signal)
	case *instructions.VolumeCommand:
		return meta(func(cfg *ocispec.Image) error {
			if cfg.Config.Volumes == nil {
				cfg.Config.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				if v == "" {
					return errors.New("VOLUME specified can not be an empty string")
				}
				cfg.Config.Volumes[v] = struct{}{}
			}
			return nil
		}, "VOLUME "+fmt.Sprint(c.Volumes))
	case *instructions.CmdCommand:
		args := s.wrap(c.CmdLine, c.PrependShell)
		return meta(func(cfg *ocispec.Image) error { cfg.Config.Cmd = args; return nil }, "CMD "+jsonText(args))
	case *instructions.EntrypointCommand:
		args := s.wrap(c.CmdLine, c.PrependShell)
		return meta(func(cfg *ocispec.Image) error {
			cfg.Config.Entrypoint = args
			cfg.Config.Cmd = nil // as Docker: a new ENTRYPOINT resets an inherited CMD
			return nil
		}, "ENTRYPOINT "+jsonText(args))
	case *instructions.ShellCommand:
		s.shell = slices.Clone(c.Shell)
		return meta(func(*ocispec.Image) error { return nil }, "SHELL "+jsonText(c.Shell))
	case *instructions.RunCommand:
		return b.run(ctx, s, c, final, fail)
	case *instructions.CopyCommand:
		return b.copy(ctx, s, copySpec{sources: c.SourcePaths, dest: c.DestPath, from: c.From, chown: c.Chown, chmod: c.Chmod, name: "COPY"}, final, fail)
	case *instructions.AddCommand:
		return b.copy(ctx, s, copySpec{sources: c.SourcePaths, dest: c.DestPath, chown: c.Chown, chmod: c.Chmod, name: "ADD", unpack: true}, final, fail)
	case *instructions.MaintainerCommand:
		return meta(func(cfg *ocispec.Image) error { cfg.Author = c.Maintainer; return nil }, "MAINTAINER "+c.Maintainer)
	}
	return fail(fmt.Errorf("%s is not supported by minidocker's builder", strings.ToUpper(cmd.Name())))
}

// wrap is the command of CMD, ENTRYPOINT or RUN: the shell form wrapped in
// the stage's SHELL.
func (s *state) wrap(cmdLine []string, prependShell bool) []string {
	if prependShell {
		return append(slices.Clone(s.shell), strings.Join(cmdLine, " "))
	}
	return slices.Clone(cmdLine)
}

func (b *build) run(ctx context.Context, s *state, c *instructions.RunCommand, final bool, fail func(error) error) error {
	args := s.wrap(c.CmdLine, c.PrependShell)
	// The classic builder's created_by: the build args in effect first,
	// as "|N K=V ...", so that another --build-arg is another step.
	var argEnv []string
	for _, kv := range envList(s.args) {
		argEnv = append(argEnv, kv)
	}
	text := strings.Join(args, " ")
	if !c.PrependShell {
		text = jsonText(args)
	}
	if len(argEnv) > 0 {
		text = fmt.Sprintf("|%d %s %s", len(argEnv), strings.Join(argEnv, " "), text)
	}
	return b.commit(s, key(s.img.ID.String(), "RUN", text), final, func() (string, ocispec.Image, func(), error) {
		spec := RunSpec{Args: args, Env: s.env(), User: s.img.Config.Config.User, Dir: s.img.Config.Config.WorkingDir}
		code, upper, done, err := b.be.Run(ctx, s.img, spec, b.out)
		if err != nil {
			return "", ocispec.Image{}, done, fail(err)
		}
		if code != 0 {
			return "", ocispec.Image{}, done, &Error{File: b.file, Line: lineOf(c.Location()), Code: code,
				Err: fmt.Errorf("The command '%s' returned a non-zero code: %d", strings.Join(args, " "), code)}
		}
		cfg := cloneConfig(s.img.Config)
		b.history(&cfg, text, false)
		return upper, cfg, done, nil
	})
}

// source is the instruction as written, for the "Step N/M :" line.
func source(cmd instructions.Command) string {
	if s, ok := cmd.(fmt.Stringer); ok {
		return s.String()
	}
	return strings.ToUpper(cmd.Name())
}

func kvText(kvs instructions.KeyValuePairs) string {
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, kv.Key+"="+kv.Value)
	}
	return strings.Join(parts, " ")
}

func jsonText(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return "[" + strings.Join(quoted, " ") + "]"
}
