//! OpenPGP packet framing (RFC 4880 section 4): splitting a key export into
//! packets, reading the fields inside a packet, and writing the packets of a
//! message. Everything here works on untrusted bytes, so every read is
//! bounds-checked and fails with [`CryptoError::PgpKey`] instead of panicking.

use crate::CryptoError;

/// Packet tags this module names (RFC 4880 section 4.3).
pub(super) mod tag {
    /// Public-Key Encrypted Session Key.
    pub const PKESK: u8 = 1;
    /// Signature.
    pub const SIGNATURE: u8 = 2;
    /// Secret-Key.
    pub const SECRET_KEY: u8 = 5;
    /// Public-Key.
    pub const PUBLIC_KEY: u8 = 6;
    /// Secret-Subkey.
    pub const SECRET_SUBKEY: u8 = 7;
    /// Literal Data.
    pub const LITERAL: u8 = 11;
    /// User ID.
    pub const USER_ID: u8 = 13;
    /// Public-Subkey.
    pub const PUBLIC_SUBKEY: u8 = 14;
    /// User Attribute.
    pub const USER_ATTRIBUTE: u8 = 17;
    /// Symmetrically Encrypted and Integrity Protected Data.
    pub const SEIPD: u8 = 18;
    /// Modification Detection Code.
    pub const MDC: u8 = 19;
}

/// A malformed-key error with `detail`.
pub(super) fn malformed(detail: &str) -> CryptoError {
    CryptoError::PgpKey(format!("malformed OpenPGP key: {detail}"))
}

/// One packet: its tag and its body.
#[derive(Clone, Copy)]
pub(super) struct Packet<'a> {
    pub tag: u8,
    pub body: &'a [u8],
}

/// Splits `input` into packets. Both header formats are read; partial and
/// indeterminate body lengths are refused (they only belong to data
/// packets, never to keys).
pub(super) fn split(input: &[u8]) -> Result<Vec<Packet<'_>>, CryptoError> {
    let mut packets = Vec::new();
    let mut r = Reader::new(input);
    while !r.is_empty() {
        let ctb = r.u8()?;
        if ctb & 0x80 == 0 {
            return Err(malformed("not an OpenPGP packet"));
        }
        let (tag, len) = if ctb & 0x40 != 0 {
            let tag = ctb & 0x3f;
            let first = r.u8()?;
            let len = match first {
                0..=191 => usize::from(first),
                192..=223 => ((usize::from(first) - 192) << 8) + usize::from(r.u8()?) + 192,
                255 => r.u32()? as usize,
                _ => return Err(malformed("partial body length in a key packet")),
            };
            (tag, len)
        } else {
            let tag = (ctb >> 2) & 0x0f;
            let len = match ctb & 0x03 {
                0 => usize::from(r.u8()?),
                1 => usize::from(r.u16()?),
                2 => r.u32()? as usize,
                _ => return Err(malformed("indeterminate length in a key packet")),
            };
            (tag, len)
        };
        let body = r.take(len)?;
        packets.push(Packet { tag, body });
    }
    Ok(packets)
}

/// A bounds-checked cursor over a packet body.
pub(super) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.data
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CryptoError> {
        if n > self.data.len() {
            return Err(malformed("truncated packet"));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, CryptoError> {
        Ok(self.take(1)?[0])
    }

    /// A big-endian 16-bit number.
    pub fn u16(&mut self) -> Result<u16, CryptoError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A big-endian 32-bit number.
    pub fn u32(&mut self) -> Result<u32, CryptoError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A multiprecision integer (RFC 4880 section 3.2): its magnitude, with
    /// any leading zero bytes removed.
    pub fn mpi(&mut self) -> Result<&'a [u8], CryptoError> {
        let bits = usize::from(self.u16()?);
        let bytes = self.take(bits.div_ceil(8))?;
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        Ok(&bytes[first..])
    }
}

/// Appends a packet with a new-format header (RFC 4880 section 4.2.2).
pub(super) fn write_packet(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(0xc0 | tag);
    let len = body.len();
    if len < 192 {
        out.push(len as u8);
    } else if len < 8384 {
        let v = len - 192;
        out.push(((v >> 8) + 192) as u8);
        out.push((v & 0xff) as u8);
    } else {
        out.push(0xff);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(body);
}

/// Appends `magnitude` (big-endian) as a multiprecision integer, without
/// leading zero bytes.
pub(super) fn write_mpi(out: &mut Vec<u8>, magnitude: &[u8]) {
    let first = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let m = &magnitude[first..];
    let bits = match m.first() {
        None => 0,
        Some(&top) => (m.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    };
    out.extend_from_slice(&(bits as u16).to_be_bytes());
    out.extend_from_slice(m);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_header_formats_split() {
        // Old format, one-byte length (tag 13), then new format, two-byte length.
        let mut input = vec![0xb4, 3, b'a', b'b', b'c'];
        let body = vec![7u8; 300];
        write_packet(&mut input, tag::SIGNATURE, &body);
        let packets = split(&input).unwrap();
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].tag, tag::USER_ID);
        assert_eq!(packets[0].body, b"abc");
        assert_eq!(packets[1].tag, tag::SIGNATURE);
        assert_eq!(packets[1].body, &body[..]);
    }

    #[test]
    fn lengths_round_trip_across_every_form() {
        for len in [0usize, 191, 192, 8383, 8384, 70000] {
            let body = vec![1u8; len];
            let mut out = Vec::new();
            write_packet(&mut out, tag::LITERAL, &body);
            let packets = split(&out).unwrap();
            assert_eq!(packets.len(), 1, "len {len}");
            assert_eq!(packets[0].body.len(), len);
        }
    }

    #[test]
    fn bad_framing_is_an_error_not_a_panic() {
        for bad in [
            &[0x01u8][..],             // no packet bit
            &[0x99, 0x01],             // old format, length cut
            &[0xb4, 5, b'a'],          // body shorter than its length
            &[0xc6, 0xe0, 1, 2],       // partial length
            &[0xb7, 1, 2, 3],          // indeterminate length
            &[0xc6, 0xff, 0xff, 0xff], // five-octet length cut
        ] {
            assert!(
                matches!(split(bad), Err(CryptoError::PgpKey(_))),
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn mpis_drop_leading_zeros_and_count_bits() {
        let mut out = Vec::new();
        write_mpi(&mut out, &[0, 0, 0x01, 0xff]);
        assert_eq!(out, [0, 9, 0x01, 0xff]);
        let mut r = Reader::new(&[0, 9, 0x01, 0xff, 0, 16, 0, 5]);
        assert_eq!(r.mpi().unwrap(), [0x01, 0xff]);
        // A sloppy encoder's leading zero is dropped too.
        assert_eq!(r.mpi().unwrap(), [5]);
        assert!(r.is_empty());
        assert!(Reader::new(&[0, 64, 1]).mpi().is_err());
    }
}
