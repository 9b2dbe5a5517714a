// This file holds the help of every command: what --help, pirun help
// COMMAND and the man page print. Flags are listed from the flag sets.

package cli

import "github.com/pirun-dev/pirun/host/launch"

// helps is the help of each command, by its flag set's name.
var helps = map[string]Text{
	"pirun bench": {
		Usage: benchUsage,
		Examples: `  pirun bench                # two local engines on a 2-CPU machine
  pirun bench -n 4 --quick
  pirun bench --profile pis --json
`,
	},
	"pirun cluster start": {
		Usage: `Usage: pirun cluster start [-n N] [--profile PROFILE] [--push-binary]

Starts the profile's hub, N engines on this machine and the engines of its
[[hosts]] over ssh, and returns once they have joined. The cluster runs in
the background (its log: the profile's log/cluster.log) until
'pirun cluster stop'.
`,
		Examples: `  pirun cluster start -n 4
  pirun cluster start --profile lab --push-binary
`,
	},
	"pirun cluster stop": {
		Usage: `Usage: pirun cluster stop [--profile PROFILE]

Stops the cluster that 'pirun cluster start' started for the profile: its
engines here and on the [[hosts]], and its hub. It works also after this
machine or the cluster's supervisor was restarted or killed, from the
profile's state/cluster.json.
`,
		Examples: "  pirun cluster stop --profile lab\n",
	},
	"pirun engine": {
		Usage: `Usage: pirun engine [--connect FILE] [--config FILE] [-n N] [--ssh [USER@]GATEWAY]

Starts N engines that connect to a hub and reconnect when it goes away.
It says on stderr what it does: connecting, joined as engines 4-7, hub
lost, reconnected, stopping. FILE is the engine-connection.toml that
'pirun hub' wrote into its profile's security/ folder, copied here.
`,
		Examples: `  pirun engine --connect engine-connection.toml -n 4
  pirun engine --connect engine-connection.toml --ssh pi@gateway.example.org
`,
	},
	"pirun hub": {
		Usage: `Usage: pirun hub [--ip ADDR] [--port PORT] [--profile PROFILE] [--tls MODE] [--http HOST:PORT]

Starts a hub and writes security/client-connection.toml and
security/engine-connection.toml into the profile folder. Credentials are
made on the first start and kept, so engines reconnect after a restart.
'pirun hub add-engine NAME' and 'pirun hub revoke-engine NAME' give one
engine machine a credential of its own and take it back.
`,
		Examples: `  pirun hub --ip '*' --port 4222
  pirun hub --profile lab --ip '*' --tls auto
  pirun hub --http :8080     # the dashboard, from a phone on the LAN (with the printed token)
`,
	},
	"pirun kernel": {
		Usage: `Usage: pirun kernel -f CONNECTION_FILE [flags]
       pirun kernel install [--user | --prefix DIR] [--profile PROFILE | -n N]

The Jupyter kernel: notebooks, JupyterLab, jupyter console and nbclient run
Starlark cells through it, in one session like the REPL's (c = Client()
is defined; %px, %%px, %autopx, %pxresult and %engines work). Jupyter
starts it; "pirun kernel install" writes the kernelspec that says how.
With no --profile or --connect it starts a hub and N engines in this
process, as a script run does.
`,
		Examples: `  pirun kernel install --user && jupyter console --kernel pirun
  pirun kernel install --user --profile rpi
`,
	},
	"pirun kernel install": {
		Usage: `Usage: pirun kernel install [--user | --prefix DIR] [--profile PROFILE | -n N]

Writes the Jupyter kernelspec "pirun" (display name "pirun (Starlark)")
that starts this binary as: pirun kernel -f {connection_file}. Without
--user or --prefix it goes into /usr/local/share/jupyter/kernels/pirun,
as "jupyter kernelspec install" does.
`,
		Examples: `  pirun kernel install --user
  pirun kernel install --user --profile rpi
  pirun kernel install --prefix "$VIRTUAL_ENV" -n 4
`,
	},
	"pirun mpi": {
		Usage: `Usage: pirun mpi [flags] SCRIPT.star [ARGS...]

Runs SCRIPT.star on N engines at once: each engine is one rank of an SPMD
job, with comm.rank (0 to N-1) and comm.size (N) for message passing
(comm.send, comm.recv, comm.bcast, comm.reduce, ...). With no --connect,
pirun starts a hub and N engines in this process. Output lines are
prefixed with their rank; ARGS are argv on every rank. The exit status is
1 when any rank fails.
`,
		Examples: `  pirun mpi -n 4 scripts/mpi_pi.star
  pirun mpi -n 2 scripts/mpi_powers.star
  pirun mpi --connect ~/.config/pirun/default/security/client-connection.toml -n 8 job.star
`,
	},
	"pirun profile": {
		Usage: `Usage: pirun profile create NAME
       pirun profile locate [NAME]
       pirun profile list

create makes the folder of profile NAME ($PIRUN_DIR/NAME, else
$XDG_CONFIG_HOME/pirun/NAME, else ~/.config/pirun/NAME) with security/,
state/ and log/, and a commented pirun.toml where every key is at its
default. locate prints a profile's folder; list names the profiles there.
`,
		Examples: `  pirun profile create lab && $EDITOR "$(pirun profile locate lab)/pirun.toml"
  pirun hub --profile lab
`,
	},
	"pirun repl": {
		Usage: `Usage: pirun [repl] [flags]

Starts the interactive session. With no --connect or --profile, pirun
starts a hub and N engines in this process, and stops them when you leave
(Ctrl-D). In the session, c = Client() is defined and %help lists the
magics (%px, %%px, %autopx, %pxresult, %engines). With standard input not
a terminal, chunks are read without prompts: pirun < session.star.
`,
		Examples: `  pirun
  pirun repl -n 4
  pirun repl --connect ~/.config/pirun/default/security/client-connection.toml
  pirun < session.star
`,
	},
	"pirun": {
		Usage: `Usage: pirun [flags] SCRIPT.star [ARGS...]

Runs SCRIPT.star. With no --connect, pirun starts a hub and N engines in
this process, runs the script and stops them. ARGS are the script's argv.
pirun's flags go before SCRIPT.star: whatever follows it is the script's
(pirun -n 4 job.star, not pirun job.star -n 4); -- ends pirun's flags.
`,
		Examples: `  pirun scripts/hello.star
  pirun -n 4 scripts/pi.star 1000000
  pirun --connect ~/.config/pirun/default/security/client-connection.toml job.star
`,
	},
	"pirun engine install-service": {
		Usage: `Usage: sudo pirun engine install-service [--connect FILE] [--user USER] [--now] [--dry-run]

Installs ` + launch.ServiceName + ` for this pirun binary, as the .deb does: the
` + launch.ServiceUser + ` system user, ` + launch.ServiceConfDir + ` with the connection file and a commented
pirun.toml, and the unit in /etc/systemd/system, which runs
  pirun engine --connect ` + launch.ServiceConnFile + ` --config ` + launch.ServiceConfig + `
The service cannot see /home or /tmp: copy pirun to /usr/local/bin first.
`,
		Examples: `  sudo install -m 0755 pirun /usr/local/bin/
  sudo /usr/local/bin/pirun engine install-service --connect engine-connection.toml --now
  pirun engine install-service --connect engine-connection.toml --dry-run
`,
	},
	"pirun status": {
		Usage: `Usage: pirun status [--profile PROFILE | --connect FILE] [--ssh [USER@]GATEWAY] [--json] [--tasks]

Shows the hub's address, each engine (id, host, pid, arch, state, current
task, queue, tasks done, uptime), the queues and where the logs are; with
--tasks, the hub's records of recent tasks instead.
`,
		Examples: `  pirun status --profile lab
  pirun status --json | jq '.engines[] | select(.state == "busy")'
`,
	},
	"pirun version": {
		Usage: `Usage: pirun version

Prints the pirun version, the protocol version the hub and engines must
share, the Go version and the platform (GOOS/GOARCH, and GOARM on 32-bit ARM).
`,
		Examples: "  pirun version\n",
	},
	"pirun cluster":           {Usage: clusterUsage},
	"pirun hub add-engine":    {Usage: hubEnginesUsage("add-engine"), Examples: "  pirun hub add-engine rpi2\n"},
	"pirun hub revoke-engine": {Usage: hubEnginesUsage("revoke-engine"), Examples: "  pirun hub revoke-engine rpi2\n"},
}

const benchUsage = `Usage: pirun bench [flags]

Measures a cluster with the workloads of ipyparallel's usual benchmarks
and prints a table: the apply_sync round trip to one engine (median and
99th percentile), load-balanced map of trivial tasks at chunksize 1 and
100, separate apply_async then wait, push + pull of a list of ints to one
engine, scatter + gather of a list over every engine, and the push and
pull bandwidth of each engine. With no --profile or --connect, pirun
starts a hub and N engines in this process and measures those.

--quick uses small sizes (1k tasks, 20k ints; for tests and slow Pis).
Progress goes to stderr (not with --quiet or --json).

--json prints one object with these keys (times in seconds unless named
_us; rates per second; sizes are what the figures used):
  engines, hosts, quick           the cluster measured, and --quick
  lat_samples                     timed apply_sync calls (after a warm-up)
  lat_direct_us, lat_direct_p99_us   apply_sync round trip: median, p99
  lb_tasks                        tasks per load-balanced figure
  lb_chunk1_tps, lb_chunk100_tps  map_sync items/s at chunksize 1, 100 (median of 3)
  lb_apply_async_tps              separate apply_async then wait, tasks/s (median of 3)
  pushpull_ints, pushpull_s       push + pull of a list to one engine (median of 3)
  scatter_gather_ints, scatter_gather_s   scatter + gather over all engines (median of 3)
  blob_bytes                      size of the string each engine got
  per_engine                      [{id, host, push_mb_per_s, pull_mb_per_s}] (medians of 3)
`

const clusterUsage = `Usage: pirun cluster start [-n N] [--profile PROFILE] [--push-binary]
       pirun cluster stop [--profile PROFILE]

start runs a hub with N engines on this machine, and the engines that the
profile's [[hosts]] tables in pirun.toml list, launched there with the
system ssh (so ~/.ssh/config and agents apply). It returns once they have
joined; the cluster keeps running in the background until
'pirun cluster stop'. Launched engines exit when their hub has been gone
for [cluster] grace, so no orphan is left on a Pi.

Run 'pirun cluster start --help' or 'pirun cluster stop --help' for flags.
`

// hubEnginesUsage is the usage of pirun hub add-engine and revoke-engine.
func hubEnginesUsage(word string) string {
	return "Usage: pirun hub " + word + ` [--profile PROFILE] NAME

add-engine writes security/engines/NAME.toml: an engine connection file
with a credential of its own, for one machine (pirun engine --connect
NAME.toml). revoke-engine deletes it: a running hub disconnects the
engines that use it within a second and refuses them from then on. The
shared security/engine-connection.toml keeps working.
`
}

func init() {
	helps["pirun completion"] = Text{Usage: `Usage: pirun completion bash|zsh|fish

Prints the shell completion script for pirun's commands, subcommands,
flags (zsh and fish show what each is) and profile names after --profile;
files are left to the shell. Load it in the running shell:
  source <(pirun completion bash)
  source <(pirun completion zsh)
  pirun completion fish | source
or install it for every session:
  pirun completion bash | sudo tee /usr/share/bash-completion/completions/pirun
  pirun completion zsh > "${fpath[1]}/_pirun"
  pirun completion fish > ~/.config/fish/completions/pirun.fish
`}
}

func init() {
	helps["pirun abort"] = Text{Usage: `Usage: pirun abort [--profile PROFILE] (--all | --client ID [TASK_ID...] | TASK_ID...)

Stops tasks of any client, queued or running: the cluster's admin
command. It runs on the hub's machine, with the hub's own credential
(security/hub.toml of the profile); a client connection file cannot.
TASK_IDs are the ids ar.msg_ids gives; without --client, tasks with
those ids are stopped whichever client sent them.
`, Examples: `  pirun abort --all
  pirun abort --client UABC…
  pirun abort 7 8 9
`}
}
