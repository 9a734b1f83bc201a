"""The compliance service's gRPC servicers, one module per service: the views (`views`, with the
translation of verdicts in `verdicts`), the credential registry (`credentials`) and the
officers' decisions (`oversight`). They only translate."""
