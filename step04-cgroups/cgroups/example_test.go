package cgroups_test

import (
	"fmt"
	"os/exec"

	"minidocker/step04-cgroups/cgroups"
)

// docker run -m 64m --cpus 0.5: the flags, parsed with Docker's rules.
func ExampleParseMemory() {
	mem, _ := cgroups.ParseMemory("64m")
	quota, _ := cgroups.ParseCPUs("0.5")
	_, err := cgroups.ParseMemory("12x")
	fmt.Println(mem, quota, cgroups.DefaultCPUPeriod)
	fmt.Printf("invalid argument %q for \"-m, --memory\" flag: %v\n", "12x", err)
	// Output:
	// 67108864 50000 100000
	// invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'
}

// The whole life of a container's cgroups (needs root, so it has no
// Output and is compiled, not run).
func ExampleNew() {
	cg, err := cgroups.New(cgroups.Config{
		ID:        "mdk-example",
		Resources: cgroups.Resources{Memory: 64 << 20, CPUQuota: 50000, PidsLimit: 20},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cg.Destroy() // kills what is left and removes the directories

	cmd := exec.Command("sh", "-c", "read go; echo inside")
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		return
	}
	_ = cg.Apply(cmd.Process.Pid) // before it does anything
	stdin.Write([]byte("go\n"))
	_ = cmd.Wait()

	if s, err := cg.Stats(); err == nil {
		fmt.Println(s.MemoryPeak, s.CPUUsage, s.OOMKills)
	}
}
