package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolecall/rolecall/store"
	"github.com/rolecall/rolecall/store/bboltdb"
	"github.com/rolecall/rolecall/store/storetest"
)

// soundDataDir writes a closed data file with enough users that the users
// bucket spans several pages, and returns its directory.
func soundDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := bboltdb.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.MustConnection(t, db, "damage")
	storetest.MustUpdate(t, db, func(tx *store.Tx) error {
		for i := range 300 {
			name := fmt.Sprintf("user%03d@example.com", i)
			if _, err := tx.CreateUser(store.User{ConnectionID: c.ID, UserName: name, Active: true, Doc: []byte(`{"userName":"` + name + `"}`)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fileDamages are the damaged and foreign files serve must refuse and check
// must report, each applied to the bytes of a sound file.
var fileDamages = []struct {
	name  string
	apply func(raw []byte, l storetest.Layout) []byte
}{
	{"zero-length", func([]byte, storetest.Layout) []byte { return nil }},
	{"truncated to half", func(raw []byte, l storetest.Layout) []byte { return raw[:l.Used/2] }},
	{"data page header flipped", func(raw []byte, l storetest.Layout) []byte {
		flipBytes(raw[l.UsersLeaf*l.PageSize : l.UsersLeaf*l.PageSize+16])
		return raw
	}},
	{"data page flipped whole", func(raw []byte, l storetest.Layout) []byte {
		flipBytes(raw[l.UsersLeaf*l.PageSize : (l.UsersLeaf+1)*l.PageSize])
		return raw
	}},
	{"meta page flipped", func(raw []byte, l storetest.Layout) []byte {
		flipBytes(raw[l.NewestMeta*l.PageSize+16 : l.NewestMeta*l.PageSize+80])
		return raw
	}},
	{"random bytes", func([]byte, storetest.Layout) []byte {
		rng := rand.New(rand.NewPCG(3, 4))
		raw := make([]byte, 256<<10)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		return raw
	}},
	{"SQLite database", func([]byte, storetest.Layout) []byte {
		return append([]byte("SQLite format 3\x00\x10\x00\x01\x01"), make([]byte, 16<<10)...)
	}},
	{"text file", func([]byte, storetest.Layout) []byte {
		return []byte(strings.Repeat("alice,bob,carol\n", 1000))
	}},
}

func flipBytes(b []byte) {
	for i := range b {
		b[i] ^= 0xFF
	}
}

// A damaged or foreign data file stops `rolecall serve` (the real process)
// with a non-zero exit and one line naming the file and what to do: no panic
// trace, no SIGBUS, no fresh tenant and bootstrap key over an existing file,
// and the file left as it was. `rolecall check` reports the same damage.
func TestServeRefusesDamagedDataFiles(t *testing.T) {
	sound := soundDataDir(t)
	soundPath := filepath.Join(sound, bboltdb.FileName)
	layout := storetest.FileLayout(t, soundPath)
	soundBytes, err := os.ReadFile(soundPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range fileDamages {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, bboltdb.FileName)
			damaged := d.apply(bytes.Clone(soundBytes), layout)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--addr", "127.0.0.1:0", "--data", dir)
			cmd.Env = append(os.Environ(), runMainEnv+"=1", "ROLECALL_ADMIN_TOKEN=")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Fatalf("serve on a %s file: %v (a signal or a server that kept running), want a non-zero exit\nstdout: %s\nstderr: %s", d.name, err, stdout.String(), stderr.String())
			}
			line := strings.TrimSuffix(stderr.String(), "\n")
			if strings.Contains(line, "\n") || !strings.Contains(line, path) || !strings.Contains(line, "restore it from a backup") {
				t.Errorf("stderr %q: want one line naming %s and what to do", stderr.String(), path)
			}
			if strings.Contains(line, "goroutine") || strings.Contains(line, "panic") {
				t.Errorf("stderr %q: a panic trace", line)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout %q: want nothing (no bootstrap key for a new tenant)", stdout.String())
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Errorf("serve changed the damaged file (%d bytes, now %d)", len(damaged), len(after))
			}

			code, out, errOut := runCmd(t, nil, "check", "--data", dir)
			if code != checkDamaged || !strings.Contains(out, path) || !strings.Contains(out, "result") {
				t.Errorf("check: exit %d, stdout %q, stderr %q; want %d and a report naming the file", code, out, errOut, checkDamaged)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
				t.Errorf("check changed the damaged file")
			}
		})
	}
}

// A second serve on a directory in use fails within about a second and says
// which file and that another process holds it, not just "timeout"; check
// will not read it either.
func TestSecondServeOnADirectoryInUseSaysSo(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(s.Data, bboltdb.FileName)
	start := time.Now()
	code, _, stderr := runCmd(t, map[string]string{"ROLECALL_ADMIN_TOKEN": testAdminToken}, "serve", "--addr", "127.0.0.1:0", "--data", s.Data)
	took := time.Since(start)
	want := path + " is in use: another Rolecall process (or another program) holds it; stop it or choose another --data"
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, want) {
		t.Errorf("second serve: exit %d, stderr %q; want 1 and one line saying %q", code, stderr, want)
	}
	if took > 3*time.Second {
		t.Errorf("second serve took %v to give up", took)
	}
	code, _, stderr = runCmd(t, nil, "check", "--data", s.Data)
	if code != checkCannotRun || !strings.Contains(stderr, path) || !strings.Contains(stderr, "stop it first") {
		t.Errorf("check of a directory in use: exit %d, stderr %q; want %d, the file and what to do", code, stderr, checkCannotRun)
	}
	// The first server is unharmed.
	if resp, _ := call(t, "GET", s.URL+"/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("healthz of the first server: %d", resp.StatusCode)
	}
}

// check passes a file written by a real server with users, groups,
// memberships, roles and bindings, and reports what it holds.
func TestCheckPassesAServersDataFile(t *testing.T) {
	s := startServer(t)
	conID, base := s.connection(t, "acme")
	token := s.scimToken(t, conID)
	alice := scimPostUser(t, base, token, "alice@acme.example", "alice@acme.example")
	bob := scimPostUser(t, base, token, "bob@acme.example", "bob@acme.example")
	eng := scimPostGroup(t, base, token, "Engineering", alice, bob)
	admin := s.api(t, "POST", "/roles", map[string]any{"name": "admin"}, 201)["id"].(string)
	s.api(t, "POST", "/groups/"+eng+"/roles", map[string]any{"roles": []string{admin}}, 204)
	s.api(t, "POST", "/users/"+alice+"/roles", map[string]any{"roles": []string{admin}}, 204)
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Data, bboltdb.FileName)
	before, _ := os.ReadFile(path)

	code, out, stderr := runCmd(t, map[string]string{"ROLECALL_DATA": s.Data}, "check")
	if code != checkSound {
		t.Fatalf("check: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	for _, want := range []string{path, "2 users", "1 groups", "2 memberships", "1 roles", "1 connections", "result      sound"} {
		if !strings.Contains(out, want) {
			t.Errorf("check report does not say %q:\n%s", want, out)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Errorf("check changed a sound file")
	}
}

func TestCheckWithoutADataFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing-here")
	code, out, stderr := runCmd(t, nil, "check", "--data", dir)
	if code != checkCannotRun || !strings.Contains(stderr, filepath.Join(dir, bboltdb.FileName)) || !strings.Contains(stderr, "no data file") || out != "" {
		t.Errorf("check of a missing directory: exit %d, stdout %q, stderr %q; want %d and a message naming the file", code, out, stderr, checkCannotRun)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("check created %s", dir)
	}
	if code, _, _ := runCmd(t, nil, "check", "extra"); code != checkUsage {
		t.Errorf("check with an argument: exit %d, want %d", code, checkUsage)
	}
}
