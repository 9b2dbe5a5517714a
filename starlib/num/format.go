// This file defines how arrays print, as numpy's str and repr.

package num

import "fmt"

// formatArray returns a as numpy's str(a) prints it.
// TODO(num-core): numpy's layout (precision, alignment, summarising).
func formatArray(a *Array) string {
	return fmt.Sprint(a.Float64s())
}
