package pdfsign_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/plumbhq/plumb/pdfsign"
)

// report returns a one-page PDF.
func report() []byte {
	f := fpdf.New("P", "mm", "A4", "")
	f.AddPage()
	f.SetFont("Helvetica", "", 14)
	f.Cell(60, 10, "Compliance report")
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

func Example() {
	now := time.Now()
	certPEM, keyPEM, err := pdfsign.NewSelfSigned("Plumb Reports", now, 2)
	if err != nil {
		log.Fatal(err)
	}
	s, err := pdfsign.Load(certPEM, keyPEM)
	if err != nil {
		log.Fatal(err)
	}
	signed, err := s.Sign(report(), now, pdfsign.Info{Reason: "Compliance report"})
	if err != nil {
		log.Fatal(err)
	}

	sig, err := pdfsign.Verify(signed)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("signed by %s: %s\n", sig.Signer, sig.Reason)

	// Anything appended after signing breaks the signature.
	_, err = pdfsign.Verify(append(signed, "% comment\n"...))
	fmt.Println(errors.Is(err, pdfsign.ErrModified))
	// Output:
	// signed by Plumb Reports: Compliance report
	// true
}
