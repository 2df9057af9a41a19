package main

import (
	"io"

	"github.com/spf13/cobra"
)

const exitCodesHelp = `Exit codes:
  0  the --fail-on criteria were not met (or none were given)
  1  usage or internal error
  2  the --fail-on criteria were met by at least one result
  3  a target was unreachable or could not be read (authentication failed, not a root directory)`

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "plumb",
		Short: "Policy compliance for servers: Pass, Fail or Error with evidence for every control",
		Long: `Plumb checks the configuration of hosts against compliance policies (CIS-style
baselines, DISA STIG-style, PCI DSS 4.0) and reports, for every control, whether it
passes, fails or could not be checked, with the expected and actual values.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newScanCommand(), newPolicyCommand(), newControlCommand(), newContentCommand(), newAssetCommand(), newGroupCommand(), newCredentialCommand(), newResultCommand(), newPostureCommand(), newTokenCommand(), newAuditCommand())
	root.AddCommand(newServerCommand(), newScannerCommand(), newExceptionCommand(), newScoreCommand(), newTrendCommand(), newChangesCommand(), newReportCommand())
	return root
}
