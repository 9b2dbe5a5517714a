// This file defines how the Raspberry Pi firmware's throttling flags are
// read from /sys.

package hostinfo

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// getThrottled is the Raspberry Pi firmware driver's attribute (Pi 1 to 4
// kernels): the same word as `vcgencmd get_throttled`, printed as hex.
const getThrottled = "devices/platform/soc/soc:firmware/get_throttled"

// throttled reads the firmware's word; where the kernel has only the
// rpi_volt hwmon device (Pi 5, newer kernels), its under-voltage alarm
// gives the UnderVoltage bit alone.
func (c *Collector) throttled() *uint32 {
	if data, err := os.ReadFile(filepath.Join(c.sys, getThrottled)); err == nil {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(data)), "0x"), 16, 32)
		if err == nil {
			w := uint32(v)
			return &w
		}
	}
	path := c.voltAlarm()
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var w uint32
	switch strings.TrimSpace(string(data)) {
	case "0":
	case "1":
		w = UnderVoltage
	default:
		return nil
	}
	return &w
}

// voltAlarm finds the rpi_volt hwmon device by name (its hwmonN number
// changes between boots), once per Collector.
func (c *Collector) voltAlarm() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.looked {
		return c.hwmon
	}
	c.looked = true
	dirs, _ := filepath.Glob(filepath.Join(c.sys, "class/hwmon/hwmon*"))
	for _, dir := range dirs {
		name, err := os.ReadFile(filepath.Join(dir, "name"))
		if err == nil && strings.TrimSpace(string(name)) == "rpi_volt" {
			c.hwmon = filepath.Join(dir, "in0_lcrit_alarm")
			break
		}
	}
	return c.hwmon
}
