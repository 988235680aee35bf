package devmode

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
)

// DirEnv names the environment variable that overrides the dev key directory.
const DirEnv = "PUSHGATE_DEV_DIR"

// KeyDir returns the directory holding the dev signing keys: $PUSHGATE_DEV_DIR
// when set, else "pushgate/dev" under the user's configuration directory
// ($XDG_CONFIG_HOME or $HOME/.config on Linux and other Unixes,
// $HOME/Library/Application Support on macOS, %AppData% on Windows), the
// places os.UserConfigDir picks. It reads the environment only through getenv,
// so that the service and its tests can inject it.
func KeyDir(getenv func(string) string) (string, error) {
	return keyDir(runtime.GOOS, getenv)
}

// keyDir is KeyDir for the operating system goos.
func keyDir(goos string, getenv func(string) string) (string, error) {
	if dir := getenv(DirEnv); dir != "" {
		return filepath.Clean(dir), nil
	}
	base, err := userConfigDir(goos, getenv)
	if err != nil {
		return "", fmt.Errorf("devmode: key directory: %w (set %s)", err, DirEnv)
	}
	return filepath.Join(base, "pushgate", "dev"), nil
}

// userConfigDir mirrors os.UserConfigDir with an injected environment.
func userConfigDir(goos string, getenv func(string) string) (string, error) {
	switch goos {
	case "windows":
		dir := getenv("AppData")
		if dir == "" {
			return "", errors.New("%AppData% is not defined")
		}
		return dir, nil
	case "darwin", "ios":
		dir := getenv("HOME")
		if dir == "" {
			return "", errors.New("$HOME is not defined")
		}
		return dir + "/Library/Application Support", nil
	case "plan9":
		dir := getenv("home")
		if dir == "" {
			return "", errors.New("$home is not defined")
		}
		return dir + "/lib", nil
	default:
		if dir := getenv("XDG_CONFIG_HOME"); dir != "" {
			if !filepath.IsAbs(dir) {
				return "", errors.New("path in $XDG_CONFIG_HOME is relative")
			}
			return dir, nil
		}
		dir := getenv("HOME")
		if dir == "" {
			return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME are defined")
		}
		return dir + "/.config", nil
	}
}
