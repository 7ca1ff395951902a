//go:build cudaplugin && linux && cgo

package cudaload_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/cudaload"
	_ "github.com/lossengine/lossengine/host"
)

// TestLoadWithStandInDriver loads the CUDA plugin over the stand-in driver
// of testdata/fakecuda.c (one GPU that cannot make a context), as
// scripts/cuda-fallback-check.sh sets it up: the plugin's real backend must
// list that GPU, opening it must fail with an error, and "auto" must fall
// back to the host.
func TestLoadWithStandInDriver(t *testing.T) {
	dir := os.Getenv("FAKECUDA_DIR")
	if dir == "" || os.Getenv(cudaload.PluginEnv) == "" {
		t.Skip("needs FAKECUDA_DIR and " + cudaload.PluginEnv + " (scripts/cuda-fallback-check.sh sets them)")
	}
	t.Setenv(cudaload.DriverEnv, filepath.Join(dir, "libcuda.so.1"))
	st, err := cudaload.Load()
	require.NoError(t, err)
	require.True(t, st.Loaded)
	require.Equal(t, 1, st.GPUs)
	t.Logf("driver probe %v, plugin load %v (%s)", st.Probe, st.PluginLoad, st.Plugin)

	var cuda *device.BackendStatus
	for _, b := range device.List() {
		if b.Name == "cuda" {
			b := b
			cuda = &b
		}
	}
	require.NotNil(t, cuda)
	require.True(t, cuda.Compiled)
	require.NoError(t, cuda.Err)
	require.Len(t, cuda.Devices, 1)
	require.True(t, strings.HasPrefix(cuda.Devices[0].Description, "fake GPU of the loader test"), cuda.Devices[0].Description)

	_, err = device.Open("cuda")
	require.Error(t, err, "the stand-in cannot create a context")
	d, err := device.Open("auto")
	require.NoError(t, err)
	require.Equal(t, "host", d.Info().Backend)
}
