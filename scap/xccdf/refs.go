package xccdf

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// mandateRules map the hrefs SSG gives its references to short mandate
// names, the keys of a Plumb control's references. Each rule is a set of
// substrings that must all occur in the lower-cased href; the first
// matching rule wins, so more specific rules come first.
var mandateRules = []struct {
	all     []string
	mandate string
}{
	{[]string{"nist.sp.800-53"}, "nist-800-53"},
	{[]string{"nist.sp.800-171"}, "nist-800-171"},
	{[]string{"nist.cswp.04162018"}, "nist-csf"},
	{[]string{"cisecurity.org/controls"}, "cis-csc"},
	{[]string{"cisecurity.org/benchmark"}, "cis"},
	{[]string{"benchmarks.cisecurity.org"}, "cis"},
	{[]string{"pcisecuritystandards.org", "v4"}, "pci-dss-4"},
	{[]string{"pcisecuritystandards.org"}, "pci-dss"},
	{[]string{"cyber.mil/stigs/cci"}, "cci"},
	{[]string{"cyber.mil/stigs/srg-stig-tools"}, "stigref"},
	{[]string{"cyber.mil/stigs", "unix-linux"}, "stig"},
	{[]string{"cyber.mil/stigs", "general-purpose-os"}, "srg"},
	{[]string{"cyber.mil/stigs", "application-servers"}, "srg-app"},
	{[]string{"iso.org/standard/54534"}, "iso27001-2013"},
	{[]string{"isa.org", "62443-3-3"}, "isa-62443-2013"},
	{[]string{"isa.org", "62443-2-1"}, "isa-62443-2009"},
	{[]string{"isaca.org", "cobit"}, "cobit5"},
	{[]string{"gpo.gov", "title45"}, "hipaa"},
	{[]string{"nerc.com"}, "nerc-cip"},
	{[]string{"niap-ccevs.org"}, "ospp"},
	{[]string{"ssi.gouv.fr"}, "anssi"},
	{[]string{"cjis-security-policy"}, "cjis"},
	{[]string{"cyber.gov.au", "ism"}, "ism"},
	{[]string{"bsi.bund.de"}, "bsi"},
}

// Mandate returns the short name of the mandate a reference href
// identifies ("nist-800-53", "cis", "pci-dss", "pci-dss-4", "stig",
// "iso27001-2013", "hipaa", "anssi", ...), or "" for an href it does not
// know. The names follow SSG's own reference keys where they are clear:
//
//	nist-800-53     NIST SP 800-53 controls (AC-6(1))
//	nist-800-171    NIST SP 800-171 requirements
//	nist-csf        NIST Cybersecurity Framework subcategories
//	cis             CIS Benchmark section numbers (5.2.10)
//	cis-csc         CIS Critical Security Controls numbers
//	pci-dss         PCI DSS v3.2.1 requirements (Req-8.2.3)
//	pci-dss-4       PCI DSS v4 requirements
//	stig            DISA STIG ids (RHEL-08-010000)
//	stigref         DISA STIG rule ids (SV-230221r858734_rule)
//	srg, srg-app    DISA SRG ids (SRG-OS-000480-GPOS-00227)
//	cci             DISA CCIs (CCI-000366)
//	iso27001-2013   ISO/IEC 27001:2013 Annex A controls
//	isa-62443-2009, isa-62443-2013, cobit5, hipaa, nerc-cip, cjis,
//	ospp (NIAP OS protection profile), anssi (BP28), ism, bsi
//
// SSG 0.1.65 writes some references (ISM controls, VMM SRGs) with an
// empty href; those have no mandate.
func Mandate(href string) string {
	if m, ok := mandateCache.Load(href); ok {
		return m.(string)
	}
	m := mandate(href)
	if mandateCacheSize.Add(1) <= maxMandateCache {
		mandateCache.Store(href, m)
	}
	return m
}

// A benchmark's thousands of references name a few dozen hrefs, and
// every scan maps each selected rule's references: Mandate remembers its
// answers, for a bounded number of hrefs.
var (
	mandateCache     sync.Map // href -> mandate
	mandateCacheSize atomic.Int64
)

const maxMandateCache = 4096

func mandate(href string) string {
	h := strings.ToLower(strings.TrimSpace(href))
	if h == "" {
		return ""
	}
next:
	for _, r := range mandateRules {
		for _, s := range r.all {
			if !strings.Contains(h, s) {
				continue next
			}
		}
		return r.mandate
	}
	return ""
}

// ReferencesByMandate groups references by Mandate into the shape of a
// Plumb control's references: mandate -> ids in document order, without
// duplicates. References whose href names no known mandate are left out.
func ReferencesByMandate(refs []Reference) map[string][]string {
	out := map[string][]string{}
	// Duplicates are found in the lists themselves, short as they are,
	// unless there are many references.
	var seen map[[2]string]bool
	if len(refs) > 64 {
		seen = make(map[[2]string]bool, len(refs))
	}
	for _, r := range refs {
		m := Mandate(r.Href)
		if m == "" || r.Text == "" {
			continue
		}
		if seen == nil {
			if slices.Contains(out[m], r.Text) {
				continue
			}
		} else {
			k := [2]string{m, r.Text}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out[m] = append(out[m], r.Text)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
