package rootfs

import (
	"encoding/json"
	"fmt"

	"minidocker/step02-namespaces/namespaces"
)

// Stage is step 3's part of the container's init: pass it to
// namespaces.Init, and put a Config in namespaces.Config.Stages[StageName].
var Stage = namespaces.Stage{
	Name:       StageName,
	MountsProc: true,
	Run: func(ns *namespaces.Config, raw json.RawMessage) error {
		var cfg Config
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		return Setup(&cfg, ns.Has(namespaces.Net))
	},
}
