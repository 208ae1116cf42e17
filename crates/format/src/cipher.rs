//! The value cipher: `ENC[<CIPHER>,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]`.
//!
//! Two AEADs are readable and writable:
//! - `AES256_GCM`, exactly as sops writes it: AES-256-GCM with a 32-byte IV.
//! - `XCHACHA20_POLY1305`: XChaCha20-Poly1305 with a 24-byte random nonce
//!   (sops-like's default for new files; sops cannot read it).
//!
//! Base64 is standard with padding; the 16-byte tag is stored apart from the
//! ciphertext; the additional authenticated data is the leaf's key path
//! joined by `:` plus a trailing `:` (see [`aad`]).

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::XChaCha20;
use zeroize::Zeroizing;

/// AES-256-GCM with sops's 32-byte nonce.
type Aes256Gcm32 = AesGcm<Aes256, U32>;

/// The AEAD of an encrypted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipherKind {
    /// `AES256_GCM`: sops-compatible.
    Aes256Gcm,
    /// `XCHACHA20_POLY1305`: sops-like's own.
    XChaCha20Poly1305,
}

impl CipherKind {
    /// The name written after `ENC[`.
    pub fn tag(self) -> &'static str {
        match self {
            CipherKind::Aes256Gcm => "AES256_GCM",
            CipherKind::XChaCha20Poly1305 => "XCHACHA20_POLY1305",
        }
    }

    /// Parse the name written after `ENC[`.
    pub fn from_tag(tag: &str) -> Option<CipherKind> {
        match tag {
            "AES256_GCM" => Some(CipherKind::Aes256Gcm),
            "XCHACHA20_POLY1305" => Some(CipherKind::XChaCha20Poly1305),
            _ => None,
        }
    }

    /// Parse a `--cipher` name (`aes256-gcm`, `xchacha20-poly1305`, or the
    /// tag spellings, case-insensitive, `-` or `_`).
    pub fn from_name(name: &str) -> Option<CipherKind> {
        match name.to_ascii_lowercase().replace('-', "_").as_str() {
            "aes256_gcm" | "aes_256_gcm" => Some(CipherKind::Aes256Gcm),
            "xchacha20_poly1305" => Some(CipherKind::XChaCha20Poly1305),
            _ => None,
        }
    }

    fn nonce_len(self) -> usize {
        match self {
            CipherKind::Aes256Gcm => 32,
            CipherKind::XChaCha20Poly1305 => 24,
        }
    }
}

/// Why a value could not be encrypted or decrypted. Never holds plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The string is not a well-formed `ENC[…]` value.
    #[error("malformed encrypted value: {0}")]
    Malformed(&'static str),
    /// Authentication failed: wrong key, wrong path (AAD) or tampered data.
    #[error("authentication failed (wrong data key, moved value, or tampered file)")]
    Auth,
    /// The random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// A parsed `ENC[…]` string.
#[derive(Clone, PartialEq, Eq)]
pub struct EncValue {
    /// The AEAD.
    pub cipher: CipherKind,
    /// Ciphertext without the tag (same length as the plaintext).
    pub data: Vec<u8>,
    /// The nonce.
    pub iv: Vec<u8>,
    /// The 16-byte tag.
    pub tag: Vec<u8>,
    /// The `type:` field (`str`, `int`, `float`, `bool`, `time`, `comment`, `bytes`).
    pub ty: String,
}

/// Whether a string looks like an encrypted value (`ENC[` prefix).
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with("ENC[")
}

/// The additional authenticated data for a leaf at `path`: the components
/// joined by `:` plus a trailing `:` (the empty path gives `:`).
pub fn aad(path: &[&str]) -> String {
    let mut out = String::with_capacity(path.iter().map(|p| p.len() + 1).sum::<usize>() + 1);
    push_aad(&mut out, path);
    out
}

/// Append the [`aad`] of `path` to `out` (for callers that reuse a buffer).
pub fn push_aad(out: &mut String, path: &[&str]) {
    for p in path {
        out.push_str(p);
        out.push(':');
    }
    if path.is_empty() {
        out.push(':');
    }
}

/// The fields of an `ENC[…]` string, borrowed and still base64-encoded.
#[derive(Clone, Copy)]
pub struct EncParts<'a> {
    /// The AEAD.
    pub cipher: CipherKind,
    /// Base64 ciphertext.
    pub data: &'a str,
    /// Base64 nonce.
    pub iv: &'a str,
    /// Base64 tag.
    pub tag: &'a str,
    /// The `type:` field.
    pub ty: &'a str,
}

impl<'a> EncParts<'a> {
    /// Split `ENC[CIPHER,data:…,iv:…,tag:…,type:…]` with sops's greedy
    /// matching (the last `,iv:`/`,tag:`/`,type:` win). No decoding.
    pub fn split(s: &'a str) -> Result<EncParts<'a>, CipherError> {
        let body = s
            .strip_prefix("ENC[")
            .and_then(|b| b.strip_suffix(']'))
            .ok_or(CipherError::Malformed("expected ENC[...]"))?;
        match Self::split_usual(body) {
            Some(parts) => Ok(parts),
            None => Self::split_general(body),
        }
    }

    /// [`EncParts::split`] of any body, with sops's greedy matching.
    fn split_general(body: &'a str) -> Result<EncParts<'a>, CipherError> {
        let (name, rest) =
            split_at_marker(body, ",data:", false).ok_or(CipherError::Malformed("missing data"))?;
        let cipher = CipherKind::from_tag(name).ok_or(CipherError::Malformed("unknown cipher"))?;
        let (rest, ty) =
            split_at_marker(rest, ",type:", true).ok_or(CipherError::Malformed("missing type"))?;
        let (rest, tag) =
            split_at_marker(rest, ",tag:", true).ok_or(CipherError::Malformed("missing tag"))?;
        let (data, iv) =
            split_at_marker(rest, ",iv:", true).ok_or(CipherError::Malformed("missing iv"))?;
        Ok(EncParts {
            cipher,
            data,
            iv,
            tag,
            ty,
        })
    }
}

impl<'a> EncParts<'a> {
    /// [`EncParts::split`] of a body (`ENC[` and `]` removed) whose only
    /// commas are the four before the field names, as every well-formed
    /// value's are (base64 has none): the first comma and the last three,
    /// so the data is never scanned. `None` for any other body, which the
    /// general split handles (with its errors).
    fn split_usual(body: &'a str) -> Option<EncParts<'a>> {
        let last_comma = |s: &str| memchr::memrchr(b',', s.as_bytes());
        let first = memchr::memchr(b',', body.as_bytes())?;
        let (name, rest) = body.split_at(first);
        let rest = rest.strip_prefix(",data:")?;
        let cipher = CipherKind::from_tag(name)?;
        let (rest, ty) = rest.split_at(last_comma(rest)?);
        let ty = ty.strip_prefix(",type:")?;
        let (rest, tag) = rest.split_at(last_comma(rest)?);
        let tag = tag.strip_prefix(",tag:")?;
        let (data, iv) = rest.split_at(last_comma(rest)?);
        let iv = iv.strip_prefix(",iv:")?;
        Some(EncParts {
            cipher,
            data,
            iv,
            tag,
            ty,
        })
    }
}

/// `s.split_once(marker)` (or `rsplit_once` when `last`) for a marker that
/// starts with `,` and has no other `,` (so occurrences cannot overlap and
/// every one starts at a comma): a byte scan for commas, no substring
/// searcher to set up for these short strings.
fn split_at_marker<'s>(s: &'s str, marker: &str, last: bool) -> Option<(&'s str, &'s str)> {
    let bytes = s.as_bytes();
    let hit = |&i: &usize| {
        bytes
            .get(i..)
            .is_some_and(|b| b.starts_with(marker.as_bytes()))
    };
    let commas = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b',')
        .map(|(i, _)| i);
    let at = if last {
        commas.rev().find(hit)
    } else {
        commas.into_iter().find(hit)
    }?;
    Some((s.get(..at)?, s.get(at + marker.len()..)?))
}

impl EncValue {
    /// Parse `ENC[CIPHER,data:…,iv:…,tag:…,type:…]` with sops's greedy
    /// matching (the last `,iv:`/`,tag:`/`,type:` win).
    pub fn parse(s: &str) -> Result<EncValue, CipherError> {
        Self::parse_parts(&EncParts::split(s)?)
    }

    /// Decode split fields (see [`EncValue::parse`]).
    pub fn parse_parts(parts: &EncParts<'_>) -> Result<EncValue, CipherError> {
        let EncParts {
            cipher,
            data,
            iv,
            tag,
            ty,
        } = *parts;
        let b64 = |t: &str| {
            STANDARD
                .decode(t)
                .map_err(|_| CipherError::Malformed("bad base64"))
        };
        let value = EncValue {
            cipher,
            data: b64(data)?,
            iv: b64(iv)?,
            tag: b64(tag)?,
            ty: ty.to_string(),
        };
        if value.tag.len() != 16 {
            return Err(CipherError::Malformed("tag must be 16 bytes"));
        }
        if value.iv.is_empty() || (cipher == CipherKind::XChaCha20Poly1305 && value.iv.len() != 24)
        {
            return Err(CipherError::Malformed("bad nonce length"));
        }
        if value.ty.is_empty() {
            return Err(CipherError::Malformed("empty type"));
        }
        Ok(value)
    }

    /// Encrypt `plaintext` under `key` with a fresh random nonce.
    pub fn seal(
        cipher: CipherKind,
        key: &[u8; 32],
        plaintext: &[u8],
        aad: &[u8],
        ty: &str,
    ) -> Result<EncValue, CipherError> {
        let mut iv = vec![0u8; cipher.nonce_len()];
        getrandom::fill(&mut iv).map_err(|_| CipherError::Rng)?;
        Self::seal_with_nonce(cipher, key, plaintext, aad, ty, iv)
    }

    /// Encrypt with a given nonce. Callers must never reuse a nonce for a
    /// different plaintext under the same key.
    pub fn seal_with_nonce(
        cipher: CipherKind,
        key: &[u8; 32],
        plaintext: &[u8],
        aad: &[u8],
        ty: &str,
        iv: Vec<u8>,
    ) -> Result<EncValue, CipherError> {
        ValueCipher::new(key).seal_with_iv(cipher, plaintext, aad, ty, iv)
    }

    /// Decrypt and authenticate. sops accepts any nonce length on
    /// decryption; besides the 32-byte AES and 24-byte XChaCha nonces, a
    /// 12-byte AES-GCM nonce (the standard size) is read too.
    pub fn open(&self, key: &[u8; 32], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CipherError> {
        if self.cipher == CipherKind::Aes256Gcm && self.iv.len() == 12 {
            let mut data = Zeroizing::new(self.data.clone());
            let tag = self
                .tag
                .as_slice()
                .try_into()
                .map_err(|_| CipherError::Malformed("tag must be 16 bytes"))?;
            let nonce = self
                .iv
                .as_slice()
                .try_into()
                .map_err(|_| CipherError::Malformed("bad nonce"))?;
            aes_gcm::Aes256Gcm::new(key.into())
                .decrypt_inout_detached(nonce, aad, InOutBuf::from(data.as_mut_slice()), tag)
                .map_err(|_| CipherError::Auth)?;
            return Ok(data);
        }
        if self.cipher == CipherKind::Aes256Gcm && self.iv.len() != 32 {
            return Err(CipherError::Malformed("unsupported AES-GCM nonce length"));
        }
        ValueCipher::new(key).open(self, aad)
    }
}

/// A data key ready to seal and open many values: the AEAD key schedules
/// are computed once, and nonces are drawn in batches (see
/// [`ValueCipher::refill`]).
pub struct ValueCipher {
    aes: Aes256Gcm32,
    /// The key itself, for XChaCha20-Poly1305 (see [`crate::xchacha`]).
    key: Zeroizing<[u8; 32]>,
    /// Random bytes for nonces, and how many are used.
    pool: Vec<u8>,
    used: usize,
    /// The generator that fills `pool`, seeded on first use.
    rng: Option<XChaCha20>,
}

/// Nonce bytes drawn at a time.
const POOL: usize = 16 * 1024;

impl ValueCipher {
    /// Prepare `key`.
    pub fn new(key: &[u8; 32]) -> ValueCipher {
        ValueCipher {
            aes: Aes256Gcm32::new(key.into()),
            key: Zeroizing::new(*key),
            pool: Vec::new(),
            used: 0,
            rng: None,
        }
    }

    fn nonce(&mut self, len: usize) -> Result<Vec<u8>, CipherError> {
        let mut nonce = vec![0u8; len];
        self.fill_nonces(&mut nonce)?;
        Ok(nonce)
    }

    /// Fill the nonce pool with fresh random bytes: the keystream of
    /// XChaCha20 under a key and nonce drawn from the system RNG when this
    /// cipher first needs a nonce. That is a cryptographically secure
    /// generator (the kernel's own is ChaCha20 too), and it costs a tenth
    /// of drawing every nonce from the kernel: 100,000 nonces took 5% of a
    /// .env encryption's CPU in `getrandom` (perf record).
    fn refill(&mut self) -> Result<(), CipherError> {
        self.pool.clear();
        self.pool.resize(POOL, 0);
        let rng = match &mut self.rng {
            Some(rng) => rng,
            None => {
                let mut seed = Zeroizing::new([0u8; 56]);
                getrandom::fill(&mut *seed).map_err(|_| CipherError::Rng)?;
                let (key, nonce) = seed.split_at(32);
                let key: &[u8; 32] = key.try_into().map_err(|_| CipherError::Rng)?;
                let nonce: &[u8; 24] = nonce.try_into().map_err(|_| CipherError::Rng)?;
                self.rng.insert(XChaCha20::new(key.into(), nonce.into()))
            }
        };
        rng.try_apply_keystream(&mut self.pool)
            .map_err(|_| CipherError::Rng)?;
        self.used = 0;
        Ok(())
    }

    /// Encrypt `plaintext` with a fresh random nonce.
    pub fn seal(
        &mut self,
        cipher: CipherKind,
        plaintext: &[u8],
        aad: &[u8],
        ty: &str,
    ) -> Result<EncValue, CipherError> {
        let iv = self.nonce(cipher.nonce_len())?;
        self.seal_with_iv(cipher, plaintext, aad, ty, iv)
    }

    /// Encrypt with a given nonce. Callers must never reuse a nonce for a
    /// different plaintext under the same key.
    pub fn seal_with_iv(
        &self,
        cipher: CipherKind,
        plaintext: &[u8],
        aad: &[u8],
        ty: &str,
        iv: Vec<u8>,
    ) -> Result<EncValue, CipherError> {
        // Wiped if an error drops it still holding the plaintext.
        let mut data = zeroize::Zeroizing::new(plaintext.to_vec());
        let buf = InOutBuf::from(data.as_mut_slice());
        let bad = |_| CipherError::Malformed("bad nonce length");
        let tag = match cipher {
            CipherKind::Aes256Gcm => self
                .aes
                .encrypt_inout_detached(iv.as_slice().try_into().map_err(bad)?, aad, buf)
                .map_err(|_| CipherError::Auth)?
                .to_vec(),
            CipherKind::XChaCha20Poly1305 => {
                let nonce = iv.as_slice().try_into().map_err(bad)?;
                crate::xchacha::seal(&self.key, nonce, aad, buf.into_out())
                    .map_err(|_| CipherError::Auth)?
                    .to_vec()
            }
        };
        Ok(EncValue {
            cipher,
            // Ciphertext now.
            data: std::mem::take(&mut *data),
            iv,
            tag,
            ty: ty.to_string(),
        })
    }

    /// Encrypt `plaintext` with a fresh random nonce and append the
    /// `ENC[…]` text to `out` (the same text as [`EncValue::encode`] of
    /// [`ValueCipher::seal`]), without intermediate allocations. `scratch`
    /// is a reusable work buffer; it holds only ciphertext afterwards.
    pub fn seal_into(
        &mut self,
        cipher: CipherKind,
        plaintext: &[u8],
        aad: &[u8],
        ty: &str,
        scratch: &mut Vec<u8>,
        out: &mut String,
    ) -> Result<(), CipherError> {
        let mut iv = [0u8; 32];
        let iv = match iv.get_mut(..cipher.nonce_len()) {
            Some(iv) => iv,
            None => return Err(CipherError::Malformed("bad nonce length")),
        };
        self.fill_nonces(iv)?;
        scratch.clear();
        scratch.extend_from_slice(plaintext);
        let tag = match cipher {
            CipherKind::Aes256Gcm => {
                let nonce = (&*iv)
                    .try_into()
                    .map_err(|_| CipherError::Malformed("bad nonce length"))?;
                self.aes
                    .encrypt_inout_detached(nonce, aad, InOutBuf::from(scratch.as_mut_slice()))
                    .map_err(|_| CipherError::Auth)?
            }
            CipherKind::XChaCha20Poly1305 => {
                let nonce = (&*iv)
                    .try_into()
                    .map_err(|_| CipherError::Malformed("bad nonce length"))?;
                crate::xchacha::seal(&self.key, nonce, aad, scratch.as_mut_slice())
                    .map_err(|_| CipherError::Auth)?
                    .into()
            }
        };
        write_enc(out, cipher, scratch, iv, tag.as_slice(), ty);
        Ok(())
    }

    /// [`ValueCipher::seal_into`] for many values of a file, each with a
    /// fresh nonce, appended to `out` in order: for each `i`, `before(i,
    /// out)` writes what comes before it, then the `ENC[…]` text of
    /// `values[i]` (plaintext and AAD), of type `ty(i)`, follows. XChaCha20
    /// values have their keystream starts computed together in SIMD lanes
    /// (see [`crate::xchacha::batch`]).
    pub fn seal_batch_append(
        &mut self,
        cipher: CipherKind,
        values: &[(&[u8], &[u8])],
        ty: impl Fn(usize) -> &'static str,
        scratch: &mut Vec<u8>,
        out: &mut String,
        mut before: impl FnMut(usize, &mut String),
    ) -> Result<(), CipherError> {
        if cipher != CipherKind::XChaCha20Poly1305 {
            for (i, (plain, aad)) in values.iter().enumerate() {
                before(i, out);
                self.seal_into(cipher, plain, aad, ty(i), scratch, out)?;
            }
            return Ok(());
        }
        let mut nonces = vec![[0u8; 24]; values.len()];
        self.fill_nonces(nonces.as_flattened_mut())?;
        let refs: Vec<&[u8; 24]> = nonces.iter().collect();
        let prepared = crate::xchacha::batch::prepare(&self.key, &refs);
        // Every plaintext in `scratch`, sealed there in place together.
        // Sized first, while it holds the previous ciphertexts: growing it
        // as the plaintexts go in would free allocations holding some.
        scratch.clear();
        scratch.reserve(values.iter().map(|(plain, _)| plain.len()).sum());
        for (plain, _) in values {
            scratch.extend_from_slice(plain);
        }
        let mut bufs: Vec<&mut [u8]> = Vec::with_capacity(values.len());
        let mut rest = scratch.as_mut_slice();
        for (plain, _) in values {
            let (buf, tail) = rest.split_at_mut(plain.len().min(rest.len()));
            bufs.push(buf);
            rest = tail;
        }
        let aads: Vec<&[u8]> = values.iter().map(|(_, aad)| *aad).collect();
        let tags = crate::xchacha::batch::seal_all(prepared, &aads, &mut bufs)
            .map_err(|_| CipherError::Auth)?;
        // The nonces' and tags' base64 texts, each batch's in one call
        // each (64 calls for fields this short were 6% of a .env
        // encryption's samples): a 24-byte nonce is 32 characters of the
        // nonces' text, and a tag padded with two zero bytes to 18 is 24
        // characters of the tags' text, the first 22 of them its own (the
        // zero bits are the padding bits), then `==`.
        let mut nonce_text = String::with_capacity(32 * nonces.len());
        crate::b64::encode_into(nonces.as_flattened(), &mut nonce_text);
        let padded: Vec<[u8; 18]> = tags
            .iter()
            .map(|t| {
                let mut p = [0u8; 18];
                p[..16].copy_from_slice(t);
                p
            })
            .collect();
        let mut tag_text = String::with_capacity(24 * tags.len());
        crate::b64::encode_into(padded.as_flattened(), &mut tag_text);
        for (i, buf) in bufs.iter().enumerate() {
            before(i, out);
            let nonce = nonce_text.get(32 * i..32 * i + 32);
            let tag = tag_text.get(24 * i..24 * i + 22);
            let (Some(nonce), Some(tag)) = (nonce, tag) else {
                return Err(CipherError::Malformed("nonce or tag count"));
            };
            write_enc_encoded(out, buf, nonce, tag, ty(i));
        }
        Ok(())
    }

    /// The length of the `ENC[…]` text that [`ValueCipher::seal_into`]
    /// writes for a plaintext of `plain_len` bytes and type `ty`.
    pub fn sealed_len(cipher: CipherKind, plain_len: usize, ty: &str) -> usize {
        let b64 = |n: usize| n.div_ceil(3) * 4;
        "ENC[".len()
            + cipher.tag().len()
            + ",data:".len()
            + b64(plain_len)
            + ",iv:".len()
            + b64(cipher.nonce_len())
            + ",tag:".len()
            + b64(16)
            + ",type:".len()
            + ty.len()
            + "]".len()
    }

    /// Fill `nonces` (several at once, each a part of the pool no other
    /// nonce took), refilling the pool as often as it runs out.
    fn fill_nonces(&mut self, mut nonces: &mut [u8]) -> Result<(), CipherError> {
        while !nonces.is_empty() {
            if self.used >= self.pool.len() {
                self.refill()?;
            }
            let src = self.pool.get(self.used..).ok_or(CipherError::Rng)?;
            let n = src.len().min(nonces.len());
            let (now, rest) = nonces.split_at_mut(n);
            now.copy_from_slice(src.get(..n).ok_or(CipherError::Rng)?);
            self.used += n;
            nonces = rest;
        }
        Ok(())
    }

    /// Decrypt and authenticate the `ENC[…]` value `parts` into `out`
    /// (cleared first). Same results and errors as [`EncValue::parse`]
    /// followed by [`ValueCipher::open`], without the intermediate
    /// allocations for the usual nonce and tag sizes.
    pub fn open_into(
        &self,
        parts: &EncParts<'_>,
        aad: &[u8],
        out: &mut Zeroizing<Vec<u8>>,
    ) -> Result<(), CipherError> {
        // Unusual field sizes: the general path, for identical errors.
        if unusual_sizes(parts) {
            let value = EncValue::parse_parts(parts)?;
            let plain = self.open(&value, aad)?;
            zeroize::Zeroize::zeroize(&mut **out);
            out.extend_from_slice(&plain);
            return Ok(());
        }
        let decoded = decode_fields(parts, out)?;
        self.open_decoded(parts.cipher, &decoded, aad, out)
    }

    /// Open the ciphertext in `out`, decoded by [`decode_fields`].
    fn open_decoded(
        &self,
        cipher: CipherKind,
        decoded: &Decoded,
        aad: &[u8],
        out: &mut Zeroizing<Vec<u8>>,
    ) -> Result<(), CipherError> {
        let tag = (&decoded.tag).into();
        let buf = InOutBuf::from(out.as_mut_slice());
        match (cipher, decoded.iv()) {
            (CipherKind::Aes256Gcm, Some(iv)) if iv.len() == 32 => {
                let nonce = iv
                    .try_into()
                    .map_err(|_| CipherError::Malformed("bad nonce"))?;
                self.aes.decrypt_inout_detached(nonce, aad, buf, tag)
            }
            (CipherKind::XChaCha20Poly1305, Some(iv)) if iv.len() == 24 => {
                let nonce = iv
                    .try_into()
                    .map_err(|_| CipherError::Malformed("bad nonce"))?;
                crate::xchacha::open(&self.key, nonce, aad, buf.into_out(), &decoded.tag)
                    .map_err(|_| aes_gcm::aead::Error)
            }
            _ => return Err(CipherError::Malformed("unusual nonce length")),
        }
        .map_err(|_| CipherError::Auth)
    }

    /// [`ValueCipher::open_into`] for many values of a file: `outs[i]`
    /// gets the plaintext of `values[i]` (its parts and AAD). XChaCha20
    /// values have their keystream starts computed together in SIMD lanes (see
    /// [`crate::xchacha::batch`]). Stops at the first value that fails, in
    /// order: `Err((i, e))` with the error `open_into` gives for it.
    pub fn open_batch_into(
        &self,
        values: &[(EncParts<'_>, &[u8])],
        outs: &mut [Zeroizing<Vec<u8>>],
    ) -> Result<(), (usize, CipherError)> {
        // Decode every usual XChaCha20 value first, to prepare them
        // together: each with its 24-byte nonce (`decode_fields` refuses an
        // XChaCha20 nonce of any other length).
        // Each value's nonce and tag (`None`: opened by `open_into`).
        let mut decoded: Vec<Option<([u8; 24], [u8; 16])>> = Vec::with_capacity(values.len());
        let mut failed = None;
        for (i, ((parts, _), out)) in values.iter().zip(outs.iter_mut()).enumerate() {
            if parts.cipher != CipherKind::XChaCha20Poly1305 || unusual_sizes(parts) {
                decoded.push(None);
                continue;
            }
            match decode_fields(parts, out) {
                Ok(d) => {
                    let nonce = d.iv().and_then(|iv| <[u8; 24]>::try_from(iv).ok());
                    decoded.push(nonce.map(|n| (n, d.tag)));
                }
                Err(e) => {
                    failed = Some((i, e));
                    break;
                }
            }
        }
        let nonces: Vec<&[u8; 24]> = decoded.iter().flatten().map(|(n, _)| n).collect();
        // One prepared value per nonce, in order, and their tags computed
        // together (over the ciphertexts, in `outs`).
        let prepared = crate::xchacha::batch::prepare(&self.key, &nonces);
        let (mut aads, mut cts) = (
            Vec::with_capacity(nonces.len()),
            Vec::with_capacity(nonces.len()),
        );
        for (((_, aad), out), d) in values.iter().zip(outs.iter()).zip(&decoded) {
            if d.is_some() {
                aads.push(*aad);
                cts.push(out.as_slice());
            }
        }
        let computed = crate::xchacha::batch::tags(&prepared, &aads, &cts);
        let mut prepared = prepared.into_iter().zip(computed);
        for (i, (((parts, aad), out), d)) in
            values.iter().zip(outs.iter_mut()).zip(&decoded).enumerate()
        {
            let opened = match d
                .as_ref()
                .and_then(|(_, tag)| Some((tag, prepared.next()?)))
            {
                Some((tag, (p, computed))) => p
                    .open_tagged(&computed, tag, out.as_mut_slice())
                    .map_err(|_| CipherError::Auth),
                None => self.open_into(parts, aad, out),
            };
            opened.map_err(|e| (i, e))?;
        }
        failed.map_or(Ok(()), Err)
    }

    /// Decrypt and authenticate `value`.
    pub fn open(&self, value: &EncValue, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CipherError> {
        let mut data = Zeroizing::new(value.data.clone());
        let tag = value
            .tag
            .as_slice()
            .try_into()
            .map_err(|_| CipherError::Malformed("tag must be 16 bytes"))?;
        let buf = InOutBuf::from(data.as_mut_slice());
        match (value.cipher, value.iv.len()) {
            (CipherKind::Aes256Gcm, 32) => {
                let nonce = value
                    .iv
                    .as_slice()
                    .try_into()
                    .map_err(|_| CipherError::Malformed("bad nonce"))?;
                self.aes.decrypt_inout_detached(nonce, aad, buf, tag)
            }
            (CipherKind::XChaCha20Poly1305, 24) => {
                let nonce = value
                    .iv
                    .as_slice()
                    .try_into()
                    .map_err(|_| CipherError::Malformed("bad nonce"))?;
                crate::xchacha::open(&self.key, nonce, aad, buf.into_out(), tag.as_ref())
                    .map_err(|_| aes_gcm::aead::Error)
            }
            // Rare nonce lengths (12-byte AES-GCM): the one-off path.
            _ => return Err(CipherError::Malformed("unusual nonce length")),
        }
        .map_err(|_| CipherError::Auth)?;
        Ok(data)
    }
}

/// Append `ENC[CIPHER,data:…,iv:…,tag:…,type:TY]` to `out`.
fn write_enc(out: &mut String, cipher: CipherKind, data: &[u8], iv: &[u8], tag: &[u8], ty: &str) {
    let b64 = |n: usize| n.div_ceil(3) * 4;
    out.reserve(40 + b64(data.len()) + b64(iv.len()) + b64(tag.len()) + ty.len());
    // The usual pieces as constants (copied inline, not by a call to
    // `memcpy` each: such calls were 6% of a .env encryption's samples).
    match cipher {
        CipherKind::XChaCha20Poly1305 => out.push_str("ENC[XCHACHA20_POLY1305,data:"),
        CipherKind::Aes256Gcm => out.push_str("ENC[AES256_GCM,data:"),
    }
    crate::b64::encode_into(data, out);
    out.push_str(",iv:");
    crate::b64::encode_into(iv, out);
    out.push_str(",tag:");
    crate::b64::encode_into(tag, out);
    push_type(out, ty);
}

/// Append `,type:TY]`, the end of an `ENC[…]` text.
fn push_type(out: &mut String, ty: &str) {
    match ty {
        "str" => out.push_str(",type:str]"),
        _ => {
            out.push_str(",type:");
            out.push_str(ty);
            out.push(']');
        }
    }
}

/// [`write_enc`] for an XChaCha20-Poly1305 value whose nonce's base64
/// text is `nonce` and whose tag's is `tag` without its `==`.
fn write_enc_encoded(out: &mut String, data: &[u8], nonce: &str, tag: &str, ty: &str) {
    out.reserve(100 + data.len().div_ceil(3) * 4 + ty.len());
    out.push_str("ENC[XCHACHA20_POLY1305,data:");
    crate::b64::encode_into(data, out);
    out.push_str(",iv:");
    out.push_str(nonce);
    out.push_str(",tag:");
    out.push_str(tag);
    out.push_str("==");
    push_type(out, ty);
}

/// [`write_enc`] piece by piece, as it was: the reference it is tested
/// against.
#[cfg(test)]
fn write_enc_pieces(
    out: &mut String,
    cipher: CipherKind,
    data: &[u8],
    iv: &[u8],
    tag: &[u8],
    ty: &str,
) {
    out.push_str("ENC[");
    out.push_str(cipher.tag());
    out.push_str(",data:");
    crate::b64::encode_into(data, out);
    out.push_str(",iv:");
    crate::b64::encode_into(iv, out);
    out.push_str(",tag:");
    crate::b64::encode_into(tag, out);
    out.push_str(",type:");
    out.push_str(ty);
    out.push(']');
}

/// Fields longer than any usual nonce or tag: opened by the general path
/// (`EncValue::parse_parts`), for its errors.
fn unusual_sizes(parts: &EncParts<'_>) -> bool {
    parts.iv.len() > 44 || parts.tag.len() > 24
}

/// The nonce and tag of an `ENC[…]` value whose ciphertext
/// [`decode_fields`] put in the caller's buffer.
struct Decoded {
    iv: [u8; 36],
    iv_len: usize,
    tag: [u8; 16],
}

impl Decoded {
    fn iv(&self) -> Option<&[u8]> {
        self.iv.get(..self.iv_len)
    }
}

/// Decode the fields of `parts` (of usual sizes, see [`unusual_sizes`]):
/// the ciphertext into `out` (wiped and cleared first), the nonce and tag
/// returned; the errors of [`EncValue::parse_parts`].
fn decode_fields(
    parts: &EncParts<'_>,
    out: &mut Zeroizing<Vec<u8>>,
) -> Result<Decoded, CipherError> {
    const BAD: CipherError = CipherError::Malformed("bad base64");
    // Wipe the previous plaintext before the buffer may be reallocated:
    // its length is all a plaintext ever takes of it (the spare capacity
    // was wiped with the plaintext that used it), and zeroize's wipe of a
    // whole `Vec` writes every byte of its capacity, a byte at a time.
    zeroize::Zeroize::zeroize(out.as_mut_slice());
    out.clear();
    // The fast decoder, or the crate's (with its errors) for what the
    // fast one leaves to it.
    if crate::b64::decode_into(parts.data.as_bytes(), out).is_none() {
        STANDARD.decode_vec(parts.data, out).map_err(|_| BAD)?;
    }
    let slice = |text: &str, buf: &mut [u8]| match crate::b64::decode_to_slice(text.as_bytes(), buf)
    {
        Some(len) => Ok(len),
        None => STANDARD.decode_slice(text, buf).map_err(|_| BAD),
    };
    let mut iv = [0u8; 36];
    let iv_len = slice(parts.iv, &mut iv)?;
    let mut tag_buf = [0u8; 18];
    let tag_len = slice(parts.tag, &mut tag_buf)?;
    if tag_len != 16 {
        return Err(CipherError::Malformed("tag must be 16 bytes"));
    }
    if iv_len == 0 || (parts.cipher == CipherKind::XChaCha20Poly1305 && iv_len != 24) {
        return Err(CipherError::Malformed("bad nonce length"));
    }
    if parts.ty.is_empty() {
        return Err(CipherError::Malformed("empty type"));
    }
    let mut tag = [0u8; 16];
    tag.copy_from_slice(tag_buf.get(..16).ok_or(BAD)?);
    Ok(Decoded { iv, iv_len, tag })
}

impl EncValue {
    /// The `ENC[…]` text, built in one allocation.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        write_enc(
            &mut out,
            self.cipher,
            &self.data,
            &self.iv,
            &self.tag,
            &self.ty,
        );
        out
    }
}

impl std::fmt::Display for EncValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    /// The `ENC[…]` text is what writing it piece by piece gives.
    #[test]
    fn enc_text_is_written_whole() {
        for cipher in [CipherKind::XChaCha20Poly1305, CipherKind::Aes256Gcm] {
            for ty in ["str", "int", "comment", "bytes", "s"] {
                for len in [0, 1, 2, 3, 16, 40] {
                    let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(7)).collect();
                    let (iv, tag) = (vec![5u8; cipher.nonce_len()], [9u8; 16]);
                    let (mut a, mut b) = (String::from("x="), String::from("x="));
                    write_enc(&mut a, cipher, &data, &iv, &tag, ty);
                    write_enc_pieces(&mut b, cipher, &data, &iv, &tag, ty);
                    assert_eq!(a, b);
                    let value = EncValue::parse(&a[2..]).unwrap();
                    assert_eq!((value.cipher, value.data), (cipher, data));
                }
            }
        }
    }

    #[test]
    fn aad_joins_path() {
        assert_eq!(aad(&["app", "port"]), "app:port:");
        assert_eq!(aad(&[]), ":");
    }

    #[test]
    fn round_trip_both_ciphers() {
        for c in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let v = EncValue::seal(c, &KEY, b"hunter2", b"a:b:", "str").unwrap();
            let text = v.to_string();
            assert!(text.starts_with(&format!("ENC[{},data:", c.tag())));
            assert!(!text.contains("hunter2"));
            let back = EncValue::parse(&text).unwrap();
            assert!(back == v);
            assert_eq!(back.open(&KEY, b"a:b:").unwrap().as_slice(), b"hunter2");
            assert_eq!(back.open(&KEY, b"a:c:").err(), Some(CipherError::Auth));
            assert_eq!(
                back.open(&[8u8; 32], b"a:b:").err(),
                Some(CipherError::Auth)
            );
            assert_eq!(back.data.len(), 7);
        }
    }

    #[test]
    fn known_sops_value_decrypts() {
        // Produced by Python `cryptography` AESGCM with a 32-byte nonce,
        // the construction sops uses: key = 32 x 0x01, nonce = 32 x 0x02,
        // plaintext "secret", AAD "db:password:".
        let v = EncValue::seal_with_nonce(
            CipherKind::Aes256Gcm,
            &[1u8; 32],
            b"secret",
            b"db:password:",
            "str",
            vec![2u8; 32],
        )
        .unwrap();
        let text = v.to_string();
        let again = EncValue::parse(&text).unwrap();
        assert_eq!(
            again.open(&[1u8; 32], b"db:password:").unwrap().as_slice(),
            b"secret"
        );
    }

    /// The fast split agrees with the general one wherever it answers,
    /// and answers for usual values.
    #[test]
    fn usual_split_agrees_with_the_general_split() {
        fn fields<'s>(p: &EncParts<'s>) -> (CipherKind, &'s str, &'s str, &'s str, &'s str) {
            (p.cipher, p.data, p.iv, p.tag, p.ty)
        }
        let usual = "XCHACHA20_POLY1305,data:QUJD,iv:aXY=,tag:dGFn,type:str";
        assert!(EncParts::split_usual(usual).is_some());
        let mut bodies = vec![usual.to_string()];
        for (from, to) in [
            (",data:", ",data:,data:"),
            (",iv:", ",iv:x,iv:"),
            (",tag:", ",tag:,tag:"),
            ("type:str", "type:s,t"),
            ("type:str", "type:str,type:int"),
            ("XCHACHA20_POLY1305", "XCHACHA20_POLY1305,x"),
            ("XCHACHA20_POLY1305", "NOPE"),
            (",iv:", ","),
            (",tag:", ""),
            (",type:", ",type"),
            ("QUJD", "Q,UJD"),
            ("QUJD", ""),
        ] {
            bodies.push(usual.replacen(from, to, 1));
        }
        bodies.push("AES256_GCM,data:,iv:,tag:,type:".into());
        for body in &bodies {
            let general = EncParts::split_general(body);
            if let Some(fast) = EncParts::split_usual(body) {
                let general = general.as_ref().unwrap_or_else(|e| panic!("{body}: {e}"));
                assert_eq!(fields(&fast), fields(general), "{body}");
            }
            let whole = format!("ENC[{body}]");
            match (EncParts::split(&whole), general) {
                (Ok(a), Ok(b)) => assert_eq!(fields(&a), fields(&b), "{body}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{body}"),
                _ => panic!("{body}: split and the general split differ"),
            }
        }
    }

    /// Nonces across several pool refills and across ciphers are all
    /// distinct (a repeat would be a broken generator), and not all zero.
    #[test]
    fn nonces_are_fresh() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2 {
            let mut c = ValueCipher::new(&[3u8; 32]);
            for _ in 0..(3 * POOL / 24) {
                let mut iv = [0u8; 24];
                c.fill_nonces(&mut iv).unwrap();
                assert!(seen.insert(iv));
            }
            assert_eq!(c.nonce(32).unwrap().len(), 32);
        }
        assert!(!seen.contains(&[0u8; 24]));
    }

    /// Batches of nonces, of every size around a pool's (and larger than
    /// one), mixed with single ones: all distinct and not all zero.
    #[test]
    fn batched_nonces_are_fresh() {
        let mut seen = std::collections::HashSet::new();
        let mut c = ValueCipher::new(&[4u8; 32]);
        for n in [
            1,
            31,
            32,
            33,
            POOL / 24 - 1,
            POOL / 24 + 1,
            3 * POOL / 24,
            0,
            5,
        ] {
            let mut batch = vec![[0u8; 24]; n];
            c.fill_nonces(batch.as_flattened_mut()).unwrap();
            let mut one = [0u8; 24];
            c.fill_nonces(&mut one).unwrap();
            for iv in batch.into_iter().chain([one]) {
                assert!(seen.insert(iv));
            }
        }
        assert!(!seen.contains(&[0u8; 24]));
    }

    #[test]
    fn split_at_marker_is_split_once() {
        for s in [
            "a,iv:b",
            ",iv:",
            "x,iv:,iv:y",
            "no",
            ",iv",
            "é,iv:ü,tag:,iv:",
            ",,iv:,",
        ] {
            for m in [",iv:", ",tag:", ",data:"] {
                assert_eq!(split_at_marker(s, m, false), s.split_once(m), "{s} {m}");
                assert_eq!(split_at_marker(s, m, true), s.rsplit_once(m), "{s} {m}");
            }
        }
    }

    #[test]
    fn sealed_len_is_the_length_seal_into_writes() {
        let mut c = ValueCipher::new(&[3u8; 32]);
        let mut scratch = Vec::new();
        for cipher in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            for n in 0..40 {
                for ty in ["str", "int", "comment"] {
                    let mut out = String::new();
                    c.seal_into(cipher, &vec![b'x'; n], b"a:", ty, &mut scratch, &mut out)
                        .unwrap();
                    assert_eq!(ValueCipher::sealed_len(cipher, n, ty), out.len());
                }
            }
        }
    }

    #[test]
    fn seal_into_and_open_into_agree_with_the_general_path() {
        for c in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
            let mut vc = ValueCipher::new(&KEY);
            let mut scratch = Vec::new();
            let mut text = String::new();
            vc.seal_into(c, b"hunter2", b"a:b:", "int", &mut scratch, &mut text)
                .unwrap();
            let v = EncValue::parse(&text).unwrap();
            assert_eq!(v.encode(), text);
            assert_eq!(v.ty, "int");
            assert_eq!(v.open(&KEY, b"a:b:").unwrap().as_slice(), b"hunter2");
            let mut out = Zeroizing::new(Vec::new());
            let parts = EncParts::split(&text).unwrap();
            vc.open_into(&parts, b"a:b:", &mut out).unwrap();
            assert_eq!(out.as_slice(), b"hunter2");
            assert_eq!(
                vc.open_into(&parts, b"a:c:", &mut out),
                Err(CipherError::Auth)
            );
        }
        let vc = ValueCipher::new(&KEY);
        let good = EncValue::seal(CipherKind::Aes256Gcm, &KEY, b"x", b":", "str")
            .unwrap()
            .encode();
        let (data, _) = good.split_once(",iv:").unwrap();
        let (_, tag_ty) = good.split_once(",tag:").unwrap();
        for bad in [
            format!("{data},iv:AAAA,tag:{tag_ty}"),
            format!("{data},iv:,tag:{tag_ty}"),
            format!("{data},iv:A,tag:{tag_ty}"),
            format!("{data},iv:{},tag:{tag_ty}", "A".repeat(64)),
            good.replace(",type:str]", ",type:]"),
            good.replace(",tag:", ",tag:AAAA"),
            good.replace(",tag:", ",tag:A"),
            good.replace("AES256_GCM", "XCHACHA20_POLY1305"),
        ] {
            let general = EncValue::parse(&bad).and_then(|v| vc.open(&v, b":"));
            let mut out = Zeroizing::new(Vec::new());
            let fast = EncParts::split(&bad).and_then(|p| vc.open_into(&p, b":", &mut out));
            assert_eq!(general.err(), fast.err(), "{bad}");
        }
    }

    /// The batch paths give what one value at a time gives: every sealed
    /// text opens by `open_into`, and `open_batch_into` reports the first
    /// failing value with `open_into`'s error, for batches of every size
    /// around the four- and eight-value groups and both ciphers mixed in.
    #[test]
    fn batches_agree_with_one_value_at_a_time() {
        for n in 0..=12usize {
            for c in [CipherKind::Aes256Gcm, CipherKind::XChaCha20Poly1305] {
                let mut vc = ValueCipher::new(&KEY);
                // Value 11 longer than the lanes of the Poly1305 passes
                // and the short keystream path take.
                let len = |i: usize| if i == 11 { 300 } else { i * 9 };
                let plains: Vec<Vec<u8>> = (0..n).map(|i| vec![b'a' + i as u8; len(i)]).collect();
                let aads: Vec<String> = (0..n).map(|i| format!("k{i}:")).collect();
                let values: Vec<(&[u8], &[u8])> = plains
                    .iter()
                    .zip(&aads)
                    .map(|(p, a)| (p.as_slice(), a.as_bytes()))
                    .collect();
                let mut joined = String::from("old");
                let mut scratch = Vec::new();
                let ty = |i: usize| if i % 3 == 1 { "comment" } else { "str" };
                vc.seal_batch_append(c, &values, ty, &mut scratch, &mut joined, |i, out| {
                    out.push_str(if i == 0 { "|" } else { "\n" })
                })
                .unwrap();
                let texts: Vec<String> = match joined.strip_prefix("old|") {
                    Some(rest) => rest.split('\n').map(String::from).collect(),
                    None => {
                        assert_eq!(joined, "old");
                        Vec::new()
                    }
                };
                assert_eq!(texts.len(), n);
                // Every nonce is fresh.
                let ivs: std::collections::HashSet<_> = texts
                    .iter()
                    .map(|t| EncParts::split(t).unwrap().iv)
                    .collect();
                assert_eq!(ivs.len(), n);
                for (i, ((text, plain), aad)) in texts.iter().zip(&plains).zip(&aads).enumerate() {
                    // In the one form `write_enc` writes, of its type.
                    let v = EncValue::parse(text).unwrap();
                    let mut again = String::new();
                    super::write_enc(&mut again, v.cipher, &v.data, &v.iv, &v.tag, &v.ty);
                    assert_eq!((&again, v.ty.as_str()), (text, ty(i)));
                    let mut out = Zeroizing::new(Vec::new());
                    let parts = EncParts::split(text).unwrap();
                    assert_eq!(parts.cipher, c);
                    vc.open_into(&parts, aad.as_bytes(), &mut out).unwrap();
                    assert_eq!(out.as_slice(), plain.as_slice());
                }
                // Opened in a batch, with an AES value in an XChaCha20 file
                // too; then with value `bad` damaged.
                let mut texts = texts;
                if n > 2 {
                    let mut other = String::new();
                    let other_c = if c == CipherKind::Aes256Gcm {
                        CipherKind::XChaCha20Poly1305
                    } else {
                        CipherKind::Aes256Gcm
                    };
                    vc.seal_into(
                        other_c,
                        &plains[2],
                        aads[2].as_bytes(),
                        "str",
                        &mut scratch,
                        &mut other,
                    )
                    .unwrap();
                    texts[2] = other;
                }
                for bad in [None, Some(n / 2), Some(n.saturating_sub(1))] {
                    let mut damaged = texts.clone();
                    let mut aads_used: Vec<String> = aads.clone();
                    if let Some(b) = bad.filter(|_| n > 0) {
                        if b % 2 == 0 {
                            aads_used[b] = "other:".into();
                        } else {
                            damaged[b] = damaged[b].replace(",tag:", ",tag:A");
                        }
                    }
                    let parts: Vec<EncParts<'_>> = damaged
                        .iter()
                        .map(|t| EncParts::split(t).unwrap())
                        .collect();
                    let values: Vec<(EncParts<'_>, &[u8])> = parts
                        .iter()
                        .zip(&aads_used)
                        .map(|(p, a)| (*p, a.as_bytes()))
                        .collect();
                    let mut outs: Vec<Zeroizing<Vec<u8>>> =
                        (0..n).map(|_| Zeroizing::new(Vec::new())).collect();
                    let batch = vc.open_batch_into(&values, &mut outs);
                    let mut expected = Ok(());
                    for (i, (p, a)) in values.iter().enumerate() {
                        let mut out = Zeroizing::new(Vec::new());
                        if let Err(e) = vc.open_into(p, a, &mut out) {
                            expected = Err((i, e));
                            break;
                        }
                        assert_eq!(outs[i].as_slice(), plains[i].as_slice(), "n {n} value {i}");
                    }
                    assert_eq!(batch, expected, "n {n} bad {bad:?} {c:?}");
                }
            }
        }
    }

    /// A batch's plaintexts go into the scratch buffer once it is sized
    /// for all of them: grown value by value, it would have moved (and
    /// freed allocations holding plaintext) on the way to a capacity of
    /// 180 here.
    #[test]
    fn a_batch_sizes_its_scratch_before_the_plaintexts_go_in() {
        let mut vc = ValueCipher::new(&KEY);
        let plains: Vec<Vec<u8>> = [5, 40, 3, 100].iter().map(|&n| vec![b'p'; n]).collect();
        let values: Vec<(&[u8], &[u8])> =
            plains.iter().map(|p| (p.as_slice(), &b"k:"[..])).collect();
        let (mut scratch, mut out) = (Vec::new(), String::new());
        vc.seal_batch_append(
            CipherKind::XChaCha20Poly1305,
            &values,
            |_| "str",
            &mut scratch,
            &mut out,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(scratch.capacity(), 148);
        assert!(
            !scratch.windows(5).any(|w| w == b"ppppp"),
            "only ciphertext left"
        );
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(EncValue::parse("ENC[AES256_GCM,data:,iv:,tag:,type:str]").is_err());
        assert!(EncValue::parse("plain").is_err());
        assert!(EncValue::parse("ENC[ROT13,data:YQ==,iv:YQ==,tag:YQ==,type:str]").is_err());
    }
}
