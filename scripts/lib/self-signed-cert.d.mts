/** Whether the openssl CLI runs on this machine. */
export declare function hasOpenssl(): boolean;
/**
 * A fresh key and certificate (PEM text) for `localhost`, 127.0.0.1 and ::1, valid for `days`
 * (default 2). Throws when openssl is missing or fails.
 */
export declare function selfSignedCert(options?: { days?: number }): { key: string; cert: string };
