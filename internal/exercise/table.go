package main

// Exercise is one thing a learner writes, graded by the step's own tests.
type Exercise struct {
	ID    string // as in the source markers, e.g. "01-exitcode"
	Title string // what to write, in a few words
	Tests []Tests
}

// Tests are the tests of one package that grade an exercise.
type Tests struct {
	Pkg   string   // relative to the module root, e.g. "./step01-process/process"
	Names []string // top-level tests (or examples) of that package
	// Quick marks the tests the course's own test runs (stub fails,
	// reference passes) on every CI run; the others run in make
	// check-exercises.
	Quick bool
}

// Steps lists the step directories by number.
var Steps = map[string]string{
	"01": "step01-process",
	"02": "step02-namespaces",
	"03": "step03-rootfs-layers",
	"04": "step04-cgroups",
	"05": "step05-pull",
	"06": "step06-networking",
}

// Exercises maps each exercise to the tests that grade it, in the order a
// learner does them. The hints are in the markers, next to the code.
var Exercises = []Exercise{
	{ID: "01-exitcode", Title: "the exit code: Code, or 128+N for death by signal N", Tests: []Tests{
		{Pkg: "./step01-process/process", Names: []string{"TestExitStatusExitCode", "TestRun"}, Quick: true},
		{Pkg: "./step01-process", Names: []string{"TestCLI"}},
	}},
	{ID: "01-signals", Title: "signal forwarding: pass each caught signal on to the child", Tests: []Tests{
		{Pkg: "./step01-process", Names: []string{"TestSignalForwarding"}, Quick: true},
	}},
	{ID: "02-clone", Title: "the clone flags: one CLONE_NEW* flag per namespace", Tests: []Tests{
		{Pkg: "./step02-namespaces/namespaces", Names: []string{"TestPID1", "TestNamespaceInodes", "TestHostname", "TestOnlyLoopback"}, Quick: true},
	}},
	{ID: "02-mounts", Title: "the mount set-up: / private (MS_PRIVATE|MS_REC), a fresh /proc", Tests: []Tests{
		{Pkg: "./step02-namespaces/namespaces", Names: []string{"TestMountsStayInside", "TestInitIsPID1"}, Quick: true},
	}},
	{ID: "03-whiteout", Title: "the whiteout rule: .wh.NAME deletes NAME, .wh..wh..opq hides a directory", Tests: []Tests{
		{Pkg: "./step03-rootfs-layers/layers", Names: []string{"Example_whiteouts", "TestWhiteoutsOnDisk", "TestMergedView"}, Quick: true},
	}},
	{ID: "03-pivot", Title: "pivot_root into the image's root and detach the host's", Tests: []Tests{
		{Pkg: "./step03-rootfs-layers/rootfs", Names: []string{"TestHostNotReachable", "TestProcShowsOnlyTheContainer"}, Quick: true},
	}},
	{ID: "04-memory", Title: "the memory limit files, v1 and v2", Tests: []Tests{
		{Pkg: "./step04-cgroups/cgroups", Names: []string{"TestLimitsReadBack", "TestOOMKill"}, Quick: true},
		{Pkg: "./step04-cgroups", Names: []string{"TestLimits"}},
	}},
	{ID: "04-cpu", Title: "the CPU limit files, v1 and v2", Tests: []Tests{
		{Pkg: "./step04-cgroups/cgroups", Names: []string{"TestLimitsReadBack", "TestCPUQuota"}, Quick: true},
		{Pkg: "./step04-cgroups", Names: []string{"TestLimits"}},
	}},
	{ID: "04-pids", Title: "the pids limit file", Tests: []Tests{
		{Pkg: "./step04-cgroups/cgroups", Names: []string{"TestLimitsReadBack", "TestPidsLimit"}, Quick: true},
		{Pkg: "./step04-cgroups", Names: []string{"TestLimits"}},
	}},
	{ID: "05-token", Title: "the token dance: 401 challenge, GET the realm, Bearer token", Tests: []Tests{
		{Pkg: "./step05-pull/registry", Names: []string{"TestPullSinglePlatform", "TestTrace"}, Quick: true},
	}},
	{ID: "05-digest", Title: "the digest check of every manifest and blob", Tests: []Tests{
		{Pkg: "./step05-pull/registry", Names: []string{"TestManifestDigestVerified", "TestPullErrors", "TestPullByDigest"}, Quick: true},
		{Pkg: "./step05-pull/store", Names: []string{"TestTamperedLayerStoresNothing"}},
	}},
	{ID: "06-veth", Title: "the veth pair: create it, move one end into the container, configure it", Tests: []Tests{
		{Pkg: "./step06-networking/network", Names: []string{"TestAttachConfiguresContainer"}, Quick: true},
		{Pkg: "./step06-networking/network", Names: []string{"TestTraffic"}},
	}},
	{ID: "06-dnat", Title: "the DNAT rule of a published port", Tests: []Tests{
		{Pkg: "./step06-networking/network", Names: []string{"TestTraffic"}, Quick: true},
	}},
}

// stepExercises returns the exercises of step (e.g. "03").
func stepExercises(step string) []Exercise {
	var out []Exercise
	for _, e := range Exercises {
		if e.ID[:2] == step {
			out = append(out, e)
		}
	}
	return out
}
