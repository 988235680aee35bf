package devmode

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestKeyDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		goos string
		env  map[string]string
		want string
	}{
		{"override", "linux", map[string]string{"PUSHGATE_DEV_DIR": "/srv/keys/", "HOME": "/home/ann"}, "/srv/keys"},
		{"override on darwin", "darwin", map[string]string{"PUSHGATE_DEV_DIR": "/tmp/k"}, "/tmp/k"},
		{"linux XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": "/home/ann/cfg", "HOME": "/home/ann"}, "/home/ann/cfg/pushgate/dev"},
		{"linux HOME", "linux", map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/pushgate/dev"},
		{"freebsd HOME", "freebsd", map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/pushgate/dev"},
		{"darwin HOME", "darwin", map[string]string{"HOME": "/Users/ann", "XDG_CONFIG_HOME": "/ignored"}, "/Users/ann/Library/Application Support/pushgate/dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := keyDir(tt.goos, envOf(tt.env))
			if err != nil {
				t.Fatalf("keyDir: %v", err)
			}
			if want := filepath.FromSlash(tt.want); got != want {
				t.Errorf("keyDir = %q, want %q", got, want)
			}
		})
	}
}

func TestKeyDirWindows(t *testing.T) {
	t.Parallel()
	appData := `C:\Users\ann\AppData\Roaming`
	got, err := keyDir("windows", envOf(map[string]string{"AppData": appData, "HOME": "/home/ann"}))
	if err != nil {
		t.Fatalf("keyDir: %v", err)
	}
	if !strings.HasPrefix(got, appData) || !strings.HasSuffix(filepath.ToSlash(got), "pushgate/dev") {
		t.Errorf("keyDir = %q, want %s + pushgate/dev", got, appData)
	}
}

func TestKeyDirErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		goos string
		env  map[string]string
	}{
		{"linux no HOME", "linux", nil},
		{"linux relative XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": "cfg", "HOME": "/home/ann"}},
		{"darwin no HOME", "darwin", map[string]string{"XDG_CONFIG_HOME": "/x"}},
		{"windows no AppData", "windows", map[string]string{"HOME": "/home/ann"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := keyDir(tt.goos, envOf(tt.env))
			if err == nil {
				t.Fatalf("keyDir = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), DirEnv) {
				t.Errorf("error %q does not point at %s", err, DirEnv)
			}
		})
	}
}

func TestKeyDirUsesInjectedEnvOnly(t *testing.T) {
	t.Setenv("PUSHGATE_DEV_DIR", "/from/process/env")
	home := "/home/injected"
	got, err := KeyDir(envOf(map[string]string{"HOME": home, "AppData": home, "XDG_CONFIG_HOME": home}))
	if err != nil {
		t.Fatalf("KeyDir: %v", err)
	}
	if !strings.HasPrefix(got, filepath.FromSlash(home)) || !strings.HasSuffix(filepath.ToSlash(got), "pushgate/dev") {
		t.Errorf("KeyDir on %s = %q, want it under %s", runtime.GOOS, got, home)
	}
}
