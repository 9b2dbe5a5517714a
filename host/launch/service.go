// This file defines the systemd service that runs `pirun engine` on a
// machine of the cluster: its unit and packaging files (in service/, shared
// by the .deb that host/cmd/release builds and by `pirun engine
// install-service`), and the steps that install it for a binary copied by
// hand.

package launch

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pirun-dev/pirun/conf"
)

// The service's names and paths on the machine it runs on.
const (
	ServiceName     = "pirun-engine.service"
	ServiceUser     = "pirun"                             // the system user it runs as
	ServiceBinary   = "/usr/bin/pirun"                    // where the .deb puts pirun
	ServiceConfDir  = "/etc/pirun"                        // root:pirun 0750
	ServiceConnFile = "/etc/pirun/engine-connection.toml" // pirun:pirun 0600; the unit starts only once it exists
	ServiceConfig   = "/etc/pirun/pirun.toml"             // the [engine] table, a conffile
	ServiceStateDir = "/var/lib/pirun"                    // PIRUN_DIR: holds the profile default/, with its log/, state/ and out/
	serviceUnitDir  = "/etc/systemd/system"               // where install-service writes the unit
	serviceFileDir  = "service"                           // the embedded folder
	serviceExecLine = "ExecStart=" + ServiceBinary + " "  // the unit line that names the binary
	serviceUserLine = "User=" + ServiceUser + "\n"        // the unit line that names the user
	serviceNoLogin  = "/usr/sbin/nologin"                 // the system user's shell
	serviceComment  = "pirun engines"                     // the system user's GECOS
	serviceNameHint = "a user name: lower-case letters, digits, '_' or '-', starting with a letter or '_'"
)

//go:embed service
var serviceFiles embed.FS

// PackageFile returns the packaging file name of the service/ folder:
// "pirun-engine.service" (the unit as the .deb installs it),
// "pirun.toml" (the commented /etc/pirun/pirun.toml), and the maintainer
// scripts "postinst", "prerm" and "postrm". It is safe for concurrent use.
func PackageFile(name string) ([]byte, error) {
	b, err := serviceFiles.ReadFile(path.Join(serviceFileDir, name))
	if err != nil {
		return nil, fmt.Errorf("packaging file %q: %w", name, err)
	}
	return b, nil
}

// Unit returns the text of pirun-engine.service running binary as user:
// with [ServiceBinary] and [ServiceUser] it is the unit the .deb installs.
// The binary must be an absolute path of plain characters (see
// [checkBinary]). It is safe for concurrent use.
func Unit(binary, user string) (string, error) {
	if err := checkBinary(binary); err != nil {
		return "", err
	}
	if err := checkUserName(user); err != nil {
		return "", err
	}
	b, err := PackageFile("pirun-engine.service")
	if err != nil {
		return "", err
	}
	unit := string(b)
	if !strings.Contains(unit, "\n"+serviceExecLine) || !strings.Contains(unit, "\n"+serviceUserLine) {
		return "", errors.New("service/pirun-engine.service lacks its ExecStart or User line")
	}
	unit = strings.Replace(unit, "\n"+serviceExecLine, "\nExecStart="+binary+" ", 1)
	return strings.Replace(unit, "\n"+serviceUserLine, "\nUser="+user+"\n", 1), nil
}

// checkBinary returns an error unless the service can run binary: an
// absolute path that systemd takes as written (no spaces, quotes, '%' or
// '$') and that the unit's sandbox shows (not under /home, /root or
// /run/user: ProtectHome=yes; not under /tmp: PrivateTmp=yes).
func checkBinary(binary string) error {
	if !filepath.IsAbs(binary) {
		return fmt.Errorf("pirun binary %q: expected an absolute path", binary)
	}
	if strings.ContainsAny(binary, " \t\n\"'\\%$;") {
		return fmt.Errorf("pirun binary %q: its path has characters a systemd ExecStart line would change; copy pirun to /usr/local/bin first: sudo install -m 0755 pirun /usr/local/bin/", binary)
	}
	for _, hidden := range []string{"/home", "/root", "/run/user", "/tmp", "/var/tmp"} {
		if binary == hidden || strings.HasPrefix(binary, hidden+"/") {
			return fmt.Errorf("pirun binary %s: the service cannot see %s (ProtectHome/PrivateTmp); copy pirun to /usr/local/bin first: sudo install -m 0755 %s /usr/local/bin/pirun", binary, hidden, binary)
		}
	}
	return nil
}

// checkUserName returns an error unless name is a portable user name.
func checkUserName(name string) error {
	ok := name != "" && len(name) <= 32 && (name[0] == '_' || name[0] >= 'a' && name[0] <= 'z')
	for _, r := range name {
		ok = ok && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}
	if !ok {
		return fmt.Errorf("user %q: expected %s", name, serviceNameHint)
	}
	return nil
}

// ServiceInstall is what `pirun engine install-service` installs: the
// unit for a pirun binary copied by hand, its user, and /etc/pirun with the
// connection file. Set its fields, then call [ServiceInstall.Plan]. It is
// plain data.
type ServiceInstall struct {
	// Root is the system tree to install into, as dpkg --root; "" means
	// this machine. Under a Root, systemctl is never run.
	Root string
	// Binary is the absolute path of the pirun binary the unit runs.
	Binary string
	// ConnFile is the engine connection file to copy to [ServiceConnFile];
	// "" keeps the one already there.
	ConnFile string
	// User is the user the service runs as; "" means [ServiceUser]. It is
	// created as a system user when missing.
	User string
	// Now enables and starts the service with systemctl.
	Now bool
}

// Step is one thing an installation does: Say describes it (a line for
// the terminal, also what --dry-run prints) and Do does it.
type Step struct {
	Say string
	Do  func() error
}

// Check returns an error unless this process can carry out the
// installation: it runs as root and, on this machine, systemd runs. A
// --dry-run does not call it. It is safe for concurrent use.
func (s ServiceInstall) Check() error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it creates a user and writes /etc/pirun and /etc/systemd/system; run it with sudo (or add --dry-run to see what it would do)")
	}
	if s.Root != "" {
		return nil
	}
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		return errors.New("systemd is not running on this machine (no /run/systemd/system), so there is no service to install; run `pirun engine --connect engine-connection.toml` under your own supervisor instead")
	}
	return nil
}

// Plan checks the installation's inputs and returns its steps, in order.
// Errors say what is wrong and what to do. It changes nothing.
func (s ServiceInstall) Plan() ([]Step, error) {
	if s.User == "" {
		s.User = ServiceUser
	}
	if s.Now && s.Root != "" {
		return nil, errors.New("--now starts the service with this machine's systemd; it does not go with --root")
	}
	binary, err := s.unitBinary()
	if err != nil {
		return nil, err
	}
	unit, err := Unit(binary, s.User)
	if err != nil {
		return nil, err
	}
	if err := s.checkConnFile(); err != nil {
		return nil, err
	}
	steps := []Step{s.userStep(), s.confDirStep()}
	if s.ConnFile != "" {
		steps = append(steps, s.connStep())
	}
	if _, err := os.Stat(s.path(ServiceConfig)); errors.Is(err, fs.ErrNotExist) {
		steps = append(steps, s.configStep())
	}
	steps = append(steps, Step{
		Say: fmt.Sprintf("write %s running %s as %s", filepath.Join(serviceUnitDir, ServiceName), binary, s.User),
		Do:  func() error { return writeFile(s.path(serviceUnitDir, ServiceName), []byte(unit), 0o644, -1, -1) },
	})
	return append(steps, s.systemdSteps()...), nil
}

// path returns the path of the system file p (joined with more) under
// s.Root.
func (s ServiceInstall) path(p string, more ...string) string {
	return filepath.Join(append([]string{s.Root, p}, more...)...)
}

// unitBinary is the path of the binary in the unit: s.Binary, or under a
// Root its path inside that tree.
func (s ServiceInstall) unitBinary() (string, error) {
	if s.Root == "" {
		return s.Binary, nil
	}
	rel, err := filepath.Rel(s.Root, s.Binary)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("--root %s: this pirun (%s) is not in that tree; copy it there (e.g. to %s) and run that copy", s.Root, s.Binary, filepath.Join(s.Root, "usr/local/bin/pirun"))
	}
	return "/" + filepath.ToSlash(rel), nil
}

// checkConnFile checks that the connection file to copy is an engine's,
// or that one is already installed.
func (s ServiceInstall) checkConnFile() error {
	if s.ConnFile == "" {
		if _, err := os.Stat(s.path(ServiceConnFile)); err != nil {
			return fmt.Errorf("no connection file: %s does not exist; give --connect FILE with the hub's engine connection file (security/engine-connection.toml in its profile)", ServiceConnFile)
		}
		return nil
	}
	cf, _, err := conf.LoadConnFile(s.ConnFile)
	if err != nil {
		return fmt.Errorf("--connect: %w", err)
	}
	if cf.Role != conf.RoleEngine {
		return fmt.Errorf("--connect %s: this is a %s connection file; the service needs the hub's security/engine-connection.toml", s.ConnFile, cf.Role)
	}
	return nil
}

// userStep creates the service's user (and its group) when missing.
func (s ServiceInstall) userStep() Step {
	if _, err := lookupID(s.path("/etc/passwd"), s.User); err == nil {
		return Step{Say: fmt.Sprintf("use the existing user %s", s.User), Do: func() error { return nil }}
	}
	var prefix []string
	if s.Root != "" {
		prefix = []string{"--prefix", s.Root}
	}
	group := append(append([]string{"groupadd"}, prefix...), "--system", s.User)
	user := append(append([]string{"useradd"}, prefix...), "--system", "--gid", s.User, "--no-create-home",
		"--home-dir", ServiceStateDir, "--shell", serviceNoLogin, "--comment", serviceComment, s.User)
	return Step{
		Say: "create the system user " + s.User + ": " + shellLine(user),
		Do: func() error {
			if _, err := lookupID(s.path("/etc/group"), s.User); err != nil {
				if err := run(group); err != nil {
					return err
				}
			}
			return run(user)
		},
	}
}

// confDirStep makes /etc/pirun readable by the service's group only.
func (s ServiceInstall) confDirStep() Step {
	return Step{
		Say: fmt.Sprintf("create %s (mode 0750, owner root, group of %s)", ServiceConfDir, s.User),
		Do: func() error {
			_, gid, err := s.ids()
			if err != nil {
				return err
			}
			dir := s.path(ServiceConfDir)
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return err
			}
			if err := os.Chown(dir, 0, gid); err != nil {
				return err
			}
			return os.Chmod(dir, 0o750)
		},
	}
}

// connStep copies the connection file, readable by the service's user
// only (0600: pirun warns about a credential others may read).
func (s ServiceInstall) connStep() Step {
	return Step{
		Say: fmt.Sprintf("copy %s to %s (mode 0600, owner %s)", s.ConnFile, ServiceConnFile, s.User),
		Do: func() error {
			b, err := os.ReadFile(s.ConnFile)
			if err != nil {
				return err
			}
			uid, gid, err := s.ids()
			if err != nil {
				return err
			}
			return writeFile(s.path(ServiceConnFile), b, 0o600, uid, gid)
		},
	}
}

// configStep writes the commented settings file the unit's --config names.
func (s ServiceInstall) configStep() Step {
	return Step{
		Say: fmt.Sprintf("write %s (every [engine] key commented out, at its default)", ServiceConfig),
		Do: func() error {
			b, err := PackageFile("pirun.toml")
			if err != nil {
				return err
			}
			return writeFile(s.path(ServiceConfig), b, 0o644, -1, -1)
		},
	}
}

// systemdSteps tell a running systemd about the unit, and with Now start it.
func (s ServiceInstall) systemdSteps() []Step {
	if s.Root != "" {
		return nil
	}
	reload := []string{"systemctl", "daemon-reload"}
	steps := []Step{{Say: "run " + strings.Join(reload, " "), Do: func() error { return run(reload) }}}
	if s.Now {
		enable := []string{"systemctl", "enable", "--now", strings.TrimSuffix(ServiceName, ".service")}
		steps = append(steps, Step{Say: "run " + strings.Join(enable, " "), Do: func() error { return run(enable) }})
	}
	return steps
}

// ids returns the uid and the primary gid of the service's user.
func (s ServiceInstall) ids() (uid, gid int, err error) {
	fields, err := lookupID(s.path("/etc/passwd"), s.User)
	if err != nil {
		return 0, 0, err
	}
	uid, err1 := strconv.Atoi(fields[2])
	gid, err2 := strconv.Atoi(fields[3])
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("user %s in %s: %w", s.User, s.path("/etc/passwd"), err)
	}
	return uid, gid, nil
}

// lookupID returns the fields of name's line in a passwd or group file.
func lookupID(file, name string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Split(sc.Text(), ":"); len(f) >= 4 && f[0] == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s: no entry for %s", file, name)
}

// writeFile writes data to path with mode perm, owned by uid:gid (-1
// keeps the writer's), through a temporary file renamed into place.
func writeFile(path string, data []byte, perm os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := errors.Join(os.Chown(tmp, uid, gid), os.Chmod(tmp, perm)); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// shellLine is argv as a shell line, arguments with spaces quoted.
func shellLine(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(a, " \t'\"") {
			a = strconv.Quote(a)
		}
		b.WriteString(a)
	}
	return b.String()
}

// run runs a command, its output in the error when it fails.
func run(argv []string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ErrInstall wraps the failure of an install step (exit 1), as opposed
// to a plan or a system that is not fit for the service (exit 2).
var ErrInstall = errors.New("install")

// Run prints on w, and unless dryRun carries out, the steps of s, and
// then how to start the service. Its errors say what to do; a failed step
// is an [ErrInstall].
// Binary is this pirun executable; Root, when set, is made absolute.
func (s ServiceInstall) Run(w io.Writer, dryRun bool) error {
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.EvalSymlinks(bin)
	}
	if err != nil {
		return fmt.Errorf("%w: cannot find this pirun binary: %w", ErrInstall, err)
	}
	s.Binary = bin
	if s.Root != "" {
		if s.Root, err = filepath.Abs(s.Root); err == nil {
			s.Root, err = filepath.EvalSymlinks(s.Root)
		}
		if err != nil {
			return fmt.Errorf("--root: %w", err)
		}
	}
	steps, err := s.Plan()
	if err != nil {
		return err
	}
	if dryRun {
		for _, st := range steps {
			fmt.Fprintf(w, "would %s\n", st.Say)
		}
		return nil
	}
	if err := s.Check(); err != nil {
		return err
	}
	for _, st := range steps {
		fmt.Fprintf(w, "%s\n", st.Say)
		if err := st.Do(); err != nil {
			return fmt.Errorf("%w: %w", ErrInstall, err)
		}
	}
	switch {
	case s.Root != "":
		fmt.Fprintf(w, "installed under %s; on that system run: systemctl enable --now pirun-engine\n", s.Root)
	case s.Now:
		fmt.Fprintf(w, "started; see it with: systemctl status pirun-engine; its log: journalctl -u pirun-engine\n")
	default:
		fmt.Fprintf(w, "installed; start it now and at every boot with:\n  sudo systemctl enable --now pirun-engine\n")
	}
	return nil
}
