//! Range sets: ordered sets of non-overlapping `u64` ranges carrying values
//! (gVisor `pkg/segment` and the `fsutil` sets built on it).
//!
//! [`RangeSet`] is the generic structure: segments `[start, end)` that never
//! overlap and are never empty, each with a value that knows how to split
//! itself when its segment is cut ([`SegmentValue::split`]) and whether it
//! can absorb an adjacent segment ([`SegmentValue::merge`]). The set merges
//! adjacent segments eagerly on insertion and update, so equal neighbours
//! never accumulate.
//!
//! Three specialisations serve file systems and memory files:
//!
//! - [`FileRangeSet`]: the page cache of a file, mapping file offsets to
//!   offsets in a memory file.
//! - [`DirtySet`]: the file ranges whose cached pages differ from the backing
//!   store, some of which must stay dirty while they are mapped writable.
//! - [`FrameRefSet`]: per-range reference counts of a memory file's pages.
//!
//! Plus the page helpers [`page_round_down`], [`page_round_up`] and
//! [`is_page_aligned`].
//!
//! # Reference model and locking
//!
//! The sets own their values and hold no references on anything else; a
//! [`FileRangeSet`] records memory-file offsets but does not count them (its
//! owner holds the memory file's page references). The sets do no locking:
//! their owner serialises access, typically under the inode's lock.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use abi_linux::Errno;

/// The page size of the memory model: 4 KiB, as on x86_64 and the common
/// aarch64 configuration.
pub const PAGE_SIZE: u64 = 4096;

/// Rounds `x` down to a multiple of [`PAGE_SIZE`].
pub const fn page_round_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Rounds `x` up to a multiple of [`PAGE_SIZE`], or returns `None` if the
/// result does not fit in a `u64`.
pub const fn page_round_up(x: u64) -> Option<u64> {
    match x.checked_add(PAGE_SIZE - 1) {
        Some(y) => Some(page_round_down(y)),
        None => None,
    }
}

/// Returns `true` if `x` is a multiple of [`PAGE_SIZE`].
pub const fn is_page_aligned(x: u64) -> bool {
    x & (PAGE_SIZE - 1) == 0
}

/// The values a [`RangeSet`] stores: how they split and merge along with
/// their segments.
pub trait SegmentValue: Sized {
    /// Returns the value of the segment `range.start..next_range.end`
    /// covering both `self` (on `range`) and `next` (on `next_range`), or
    /// `None` if the two segments must stay separate.
    ///
    /// # Preconditions
    ///
    /// `range.end == next_range.start`.
    fn merge(&self, range: Range<u64>, next: &Self, next_range: Range<u64>) -> Option<Self>;

    /// Splits the value of the segment `range` at `at` into the values of
    /// `range.start..at` and `at..range.end`.
    ///
    /// # Preconditions
    ///
    /// `range.start < at < range.end`.
    fn split(&self, range: Range<u64>, at: u64) -> (Self, Self);
}

/// Why [`RangeSet::insert`] refused a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeSetError {
    /// The range is empty or inverted (`start >= end`).
    EmptyRange,
    /// The range overlaps a segment already in the set.
    Overlaps,
}

impl fmt::Display for RangeSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeSetError::EmptyRange => f.write_str("empty or inverted range"),
            RangeSetError::Overlaps => f.write_str("range overlaps an existing segment"),
        }
    }
}

impl From<RangeSetError> for Errno {
    /// Both kinds are invalid arguments: `EINVAL`.
    fn from(_: RangeSetError) -> Errno {
        Errno::EINVAL
    }
}

/// An ordered set of non-empty, non-overlapping segments `[start, end)`
/// with values.
///
/// # Examples
///
/// ```
/// use vfs_core::range_set::FrameRefSet;
///
/// let mut refs = FrameRefSet::new();
/// refs.inc_ref(0..8192).unwrap();
/// refs.inc_ref(4096..8192).unwrap();
/// assert_eq!(refs.dec_ref(0..8192).unwrap(), vec![0..4096]);
/// assert_eq!(refs.ref_count(4096), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeSet<V> {
    /// Segment start → (segment end, value).
    segments: BTreeMap<u64, (u64, V)>,
}

impl<V> Default for RangeSet<V> {
    fn default() -> Self {
        RangeSet::new()
    }
}

impl<V> RangeSet<V> {
    /// Creates an empty set.
    pub const fn new() -> RangeSet<V> {
        RangeSet {
            segments: BTreeMap::new(),
        }
    }

    /// Returns `true` if the set has no segments.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Returns the number of segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Returns the total length covered by the segments, saturating at
    /// `u64::MAX`.
    pub fn span(&self) -> u64 {
        self.segments.iter().fold(0u64, |acc, (start, (end, _))| {
            acc.saturating_add(end - start)
        })
    }

    /// Removes every segment.
    pub fn clear(&mut self) {
        self.segments.clear();
    }

    /// Returns the segment containing `key` and its value.
    pub fn find(&self, key: u64) -> Option<(Range<u64>, &V)> {
        let (start, (end, value)) = self.segments.range(..=key).next_back()?;
        (*end > key).then_some((*start..*end, value))
    }

    /// Returns `true` if some segment contains `key`.
    pub fn contains(&self, key: u64) -> bool {
        self.find(key).is_some()
    }

    /// Iterates over all segments in order.
    pub fn iter(&self) -> impl Iterator<Item = (Range<u64>, &V)> {
        self.segments
            .iter()
            .map(|(start, (end, value))| (*start..*end, value))
    }

    /// Iterates, in order, over the segments that intersect `range`. The
    /// segments are reported whole, not clipped to `range`; an empty
    /// `range` intersects nothing.
    pub fn segments(&self, range: Range<u64>) -> impl Iterator<Item = (Range<u64>, &V)> {
        let empty = range.start >= range.end;
        let first = self
            .segments
            .range(..=range.start)
            .next_back()
            .filter(|(_, (end, _))| *end > range.start)
            .map_or(range.start, |(start, _)| *start);
        self.segments
            .range(first..)
            .take_while(move |(start, _)| !empty && **start < range.end)
            .map(|(start, (end, value))| (*start..*end, value))
    }

    /// Iterates, in order, over the maximal sub-ranges of `range` that no
    /// segment covers.
    pub fn gaps(&self, range: Range<u64>) -> impl Iterator<Item = Range<u64>> {
        let end = range.end;
        let mut cursor = range.start;
        let mut segments = self.segments(range);
        core::iter::from_fn(move || {
            while cursor < end {
                match segments.next() {
                    Some((seg, _)) => {
                        let gap = cursor..seg.start.min(end);
                        cursor = cursor.max(seg.end);
                        if gap.start < gap.end {
                            return Some(gap);
                        }
                    }
                    None => {
                        let gap = cursor..end;
                        cursor = end;
                        return Some(gap);
                    }
                }
            }
            None
        })
    }

    /// Returns `true` if every key of `range` is covered by a segment. An
    /// empty range is covered.
    pub fn covers(&self, range: Range<u64>) -> bool {
        self.gaps(range).next().is_none()
    }
}

impl<V: SegmentValue> RangeSet<V> {
    /// Inserts the segment `range` with `value`, merging it with adjacent
    /// segments whose values allow it.
    ///
    /// Returns [`RangeSetError::EmptyRange`] if `range` is empty and
    /// [`RangeSetError::Overlaps`] if it intersects a segment; the set is
    /// unchanged then.
    pub fn insert(&mut self, range: Range<u64>, value: V) -> Result<(), RangeSetError> {
        if range.start >= range.end {
            return Err(RangeSetError::EmptyRange);
        }
        if self.segments(range.clone()).next().is_some() {
            return Err(RangeSetError::Overlaps);
        }
        let (mut start, mut end, mut value) = (range.start, range.end, value);
        if let Some((&prev_start, (prev_end, prev_value))) =
            self.segments.range(..start).next_back()
            && *prev_end == start
            && let Some(merged) = prev_value.merge(prev_start..start, &value, start..end)
        {
            self.segments.remove(&prev_start);
            start = prev_start;
            value = merged;
        }
        if let Some((next_end, next_value)) = self.segments.get(&end)
            && let Some(merged) = value.merge(start..end, next_value, end..*next_end)
        {
            let next_end = *next_end;
            self.segments.remove(&end);
            end = next_end;
            value = merged;
        }
        self.segments.insert(start, (end, value));
        Ok(())
    }

    /// Splits the segment containing `at`, if any, so that `at` becomes a
    /// segment boundary. Returns `true` if a segment was split.
    pub fn split_at(&mut self, at: u64) -> bool {
        let Some((&start, (end, value))) = self.segments.range(..at).next_back() else {
            return false;
        };
        let end = *end;
        if end <= at {
            return false;
        }
        let (left, right) = value.split(start..end, at);
        self.segments.insert(start, (at, left));
        self.segments.insert(at, (end, right));
        true
    }

    /// Splits segments so that `range.start` and `range.end` are segment
    /// boundaries: afterwards every segment is either inside `range` or
    /// outside it.
    pub fn isolate(&mut self, range: Range<u64>) {
        if range.start < range.end {
            self.split_at(range.start);
            self.split_at(range.end);
        }
    }

    /// Removes everything in `range`, splitting segments that straddle its
    /// edges, and returns the removed pieces in order.
    pub fn remove(&mut self, range: Range<u64>) -> Vec<(Range<u64>, V)> {
        if range.start >= range.end {
            return Vec::new();
        }
        self.isolate(range.clone());
        let mut removed = self.segments.split_off(&range.start);
        let mut after = removed.split_off(&range.end);
        self.segments.append(&mut after);
        removed
            .into_iter()
            .map(|(start, (end, value))| (start..end, value))
            .collect()
    }

    /// Calls `f` on every segment inside `range` (after splitting the
    /// segments that straddle its edges), then merges the segments of and
    /// around `range` that can merge.
    pub fn update(&mut self, range: Range<u64>, mut f: impl FnMut(Range<u64>, &mut V)) {
        if range.start >= range.end {
            return;
        }
        self.isolate(range.clone());
        for (start, (end, value)) in self.segments.range_mut(range.start..range.end) {
            f(*start..*end, value);
        }
        self.merge_adjacent(range);
    }

    /// Merges adjacent segments that intersect or touch `range` wherever
    /// their values allow it.
    pub fn merge_adjacent(&mut self, range: Range<u64>) {
        let low = self
            .segments
            .range(..range.start)
            .next_back()
            .map_or(range.start, |(start, _)| *start);
        let high = range.end.max(range.start);
        let keys: Vec<u64> = self.segments.range(low..=high).map(|(k, _)| *k).collect();
        let Some((&first, rest)) = keys.split_first() else {
            return;
        };
        let mut current = first;
        for &next in rest {
            let merged = match (self.segments.get(&current), self.segments.get(&next)) {
                (Some((cur_end, cur_value)), Some((next_end, next_value))) if *cur_end == next => {
                    cur_value
                        .merge(current..next, next_value, next..*next_end)
                        .map(|m| (*next_end, m))
                }
                _ => None,
            };
            match merged {
                Some(segment) => {
                    self.segments.remove(&next);
                    self.segments.insert(current, segment);
                }
                None => current = next,
            }
        }
    }
}

/// The value of a [`FileRangeSet`] segment: where in the memory file the
/// segment's first byte is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachedOffset(pub u64);

impl SegmentValue for CachedOffset {
    fn merge(&self, range: Range<u64>, next: &Self, _next_range: Range<u64>) -> Option<Self> {
        let contiguous = self.0.checked_add(range.end - range.start) == Some(next.0);
        contiguous.then_some(*self)
    }

    fn split(&self, range: Range<u64>, at: u64) -> (Self, Self) {
        // `at - range.start` is below the segment length, and the segment's
        // memory range was valid when inserted, so this cannot wrap; wrapping
        // keeps the function total.
        (*self, CachedOffset(self.0.wrapping_add(at - range.start)))
    }
}

/// The page cache of a file: which file ranges are cached, and where in the
/// memory file (gVisor `fsutil.FileRangeSet`).
///
/// # Examples
///
/// ```
/// use vfs_core::range_set::FileRangeSet;
///
/// let mut cache = FileRangeSet::new();
/// cache.insert(0..4096, 65536).unwrap();
/// cache.insert(4096..8192, 69632).unwrap(); // Contiguous: merges.
/// let pieces: Vec<_> = cache.translate(2048..6144).collect();
/// assert_eq!(pieces, vec![(2048..6144, 67584..71680)]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileRangeSet {
    set: RangeSet<CachedOffset>,
}

impl FileRangeSet {
    /// Creates an empty cache.
    pub const fn new() -> FileRangeSet {
        FileRangeSet {
            set: RangeSet::new(),
        }
    }

    /// Returns the underlying generic set.
    pub fn as_set(&self) -> &RangeSet<CachedOffset> {
        &self.set
    }

    /// Records that `file_range` is cached at `memory_offset` in the memory
    /// file. Fails if the range is empty, overlaps a cached range, or the
    /// memory range would pass `u64::MAX`.
    pub fn insert(&mut self, file_range: Range<u64>, memory_offset: u64) -> Result<(), Errno> {
        let len = file_range.end.saturating_sub(file_range.start);
        if memory_offset.checked_add(len).is_none() {
            return Err(Errno::EOVERFLOW);
        }
        Ok(self.set.insert(file_range, CachedOffset(memory_offset))?)
    }

    /// Returns the memory-file offset caching file offset `offset`.
    pub fn memory_offset(&self, offset: u64) -> Option<u64> {
        let (range, value) = self.set.find(offset)?;
        Some(value.0 + (offset - range.start))
    }

    /// Iterates over the cached parts of `file_range`, each as (file range,
    /// memory-file range), clipped to `file_range`.
    pub fn translate(
        &self,
        file_range: Range<u64>,
    ) -> impl Iterator<Item = (Range<u64>, Range<u64>)> {
        let (lo, hi) = (file_range.start, file_range.end);
        self.set.segments(file_range).map(move |(seg, value)| {
            let start = seg.start.max(lo);
            let end = seg.end.min(hi);
            let memory_start = value.0 + (start - seg.start);
            (start..end, memory_start..memory_start + (end - start))
        })
    }

    /// Iterates over the parts of `file_range` that are not cached.
    pub fn gaps(&self, file_range: Range<u64>) -> impl Iterator<Item = Range<u64>> {
        self.set.gaps(file_range)
    }

    /// Forgets the caching of `file_range` and returns the memory-file
    /// ranges that cached it, for the caller to release.
    pub fn remove(&mut self, file_range: Range<u64>) -> Vec<Range<u64>> {
        self.set
            .remove(file_range)
            .into_iter()
            .map(|(seg, value)| value.0..value.0 + (seg.end - seg.start))
            .collect()
    }

    /// Forgets the cached pages that lie wholly at or past `new_size` (the
    /// page containing `new_size` stays cached) and returns their memory-file
    /// ranges, for the caller to release.
    ///
    /// The caller also zeroes the cached bytes from `new_size` to the end of
    /// its page, as Linux does on truncation, so that a later extension
    /// reads zeros.
    pub fn truncate(&mut self, new_size: u64) -> Vec<Range<u64>> {
        match page_round_up(new_size) {
            Some(keep_end) => self.remove(keep_end..u64::MAX),
            None => Vec::new(),
        }
    }

    /// Iterates over all cached segments as (file range, memory-file
    /// offset of the first byte).
    pub fn iter(&self) -> impl Iterator<Item = (Range<u64>, u64)> {
        self.set.iter().map(|(range, value)| (range, value.0))
    }
}

/// The value of a [`DirtySet`] segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirtyInfo {
    /// The range must stay dirty (it is mapped writable, so writeback cannot
    /// prove it clean) even after it is written back.
    pub keep: bool,
}

impl SegmentValue for DirtyInfo {
    fn merge(&self, _range: Range<u64>, next: &Self, _next_range: Range<u64>) -> Option<Self> {
        (self.keep == next.keep).then_some(*self)
    }

    fn split(&self, _range: Range<u64>, _at: u64) -> (Self, Self) {
        (*self, *self)
    }
}

/// The file ranges whose cached contents differ from the backing store
/// (gVisor `fsutil.DirtySet`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirtySet {
    set: RangeSet<DirtyInfo>,
}

impl DirtySet {
    /// Creates a set with nothing dirty.
    pub const fn new() -> DirtySet {
        DirtySet {
            set: RangeSet::new(),
        }
    }

    /// Returns the underlying generic set.
    pub fn as_set(&self) -> &RangeSet<DirtyInfo> {
        &self.set
    }

    /// Fills the gaps of `range` with segments carrying `info`.
    fn fill_gaps(&mut self, range: Range<u64>, info: DirtyInfo) {
        let gaps: Vec<Range<u64>> = self.set.gaps(range).collect();
        for gap in gaps {
            // A gap is non-empty and overlaps nothing by construction.
            let inserted = self.set.insert(gap, info);
            debug_assert!(inserted.is_ok(), "a gap of the set was refused");
        }
    }

    /// Marks `range` dirty (after a write through the cache). Ranges that
    /// were already dirty keep their `keep` flag.
    pub fn mark_dirty(&mut self, range: Range<u64>) {
        self.fill_gaps(range, DirtyInfo { keep: false });
    }

    /// Marks `range` dirty and keeps it dirty across writeback until
    /// [`DirtySet::allow_clean`] (used while a writable mapping exists).
    pub fn keep_dirty(&mut self, range: Range<u64>) {
        self.set.update(range.clone(), |_, info| info.keep = true);
        self.fill_gaps(range, DirtyInfo { keep: true });
    }

    /// Lets the dirty ranges inside `range` become clean on the next
    /// [`DirtySet::mark_clean`].
    pub fn allow_clean(&mut self, range: Range<u64>) {
        self.set.update(range, |_, info| info.keep = false);
    }

    /// Marks `range` clean (after writeback), except the parts that must be
    /// kept dirty.
    pub fn mark_clean(&mut self, range: Range<u64>) {
        if range.start >= range.end {
            return;
        }
        self.set.isolate(range.clone());
        let clean: Vec<Range<u64>> = self
            .set
            .segments(range.clone())
            .filter(|(_, info)| !info.keep)
            .map(|(seg, _)| seg)
            .collect();
        for seg in clean {
            self.set.remove(seg);
        }
        self.set.merge_adjacent(range);
    }

    /// Returns `true` if the byte at `offset` is dirty.
    pub fn is_dirty(&self, offset: u64) -> bool {
        self.set.contains(offset)
    }

    /// Iterates over the dirty parts of `range`, clipped to it, in order:
    /// what writeback must write.
    pub fn dirty_ranges(&self, range: Range<u64>) -> impl Iterator<Item = Range<u64>> {
        let (lo, hi) = (range.start, range.end);
        self.set
            .segments(range)
            .map(move |(seg, _)| seg.start.max(lo)..seg.end.min(hi))
    }
}

/// The value of a [`FrameRefSet`] segment: a reference count, at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRefCount(pub u64);

impl SegmentValue for FrameRefCount {
    fn merge(&self, _range: Range<u64>, next: &Self, _next_range: Range<u64>) -> Option<Self> {
        (self == next).then_some(*self)
    }

    fn split(&self, _range: Range<u64>, _at: u64) -> (Self, Self) {
        (*self, *self)
    }
}

/// Reference counts over ranges of a memory file (gVisor
/// `fsutil.FrameRefSet`): a range is allocated while its count is at least
/// one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameRefSet {
    set: RangeSet<FrameRefCount>,
}

impl FrameRefSet {
    /// Creates a set with nothing referenced.
    pub const fn new() -> FrameRefSet {
        FrameRefSet {
            set: RangeSet::new(),
        }
    }

    /// Returns the underlying generic set.
    pub fn as_set(&self) -> &RangeSet<FrameRefCount> {
        &self.set
    }

    /// Takes one reference on every byte of `range`; unreferenced parts get
    /// a count of one.
    ///
    /// Returns `EOVERFLOW` (changing nothing) if a count would pass
    /// `u64::MAX`.
    pub fn inc_ref(&mut self, range: Range<u64>) -> Result<(), Errno> {
        if self
            .set
            .segments(range.clone())
            .any(|(_, count)| count.0 == u64::MAX)
        {
            return Err(Errno::EOVERFLOW);
        }
        self.set.update(range.clone(), |_, count| count.0 += 1);
        let gaps: Vec<Range<u64>> = self.set.gaps(range).collect();
        for gap in gaps {
            self.set.insert(gap, FrameRefCount(1))?;
        }
        Ok(())
    }

    /// Drops one reference on every byte of `range` and returns the ranges
    /// whose count reached zero (now free), in order, merged where
    /// contiguous.
    ///
    /// Returns `EINVAL` (changing nothing) if part of `range` holds no
    /// reference.
    pub fn dec_ref(&mut self, range: Range<u64>) -> Result<Vec<Range<u64>>, Errno> {
        if !self.set.covers(range.clone()) {
            return Err(Errno::EINVAL);
        }
        self.set.update(range.clone(), |_, count| count.0 -= 1);
        let freed: Vec<Range<u64>> = self
            .set
            .segments(range)
            .filter(|(_, count)| count.0 == 0)
            .map(|(seg, _)| seg)
            .collect();
        for seg in &freed {
            self.set.remove(seg.clone());
        }
        Ok(freed)
    }

    /// Returns the reference count of the byte at `offset` (zero if free).
    pub fn ref_count(&self, offset: u64) -> u64 {
        self.set.find(offset).map_or(0, |(_, count)| count.0)
    }

    /// Returns the number of referenced bytes.
    pub fn referenced_bytes(&self) -> u64 {
        self.set.span()
    }

    /// Iterates over the referenced ranges and their counts.
    pub fn iter(&self) -> impl Iterator<Item = (Range<u64>, u64)> {
        self.set.iter().map(|(range, count)| (range, count.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Collects a set's segments with copied values.
    fn segments<V: Copy>(set: &RangeSet<V>) -> Vec<(Range<u64>, V)> {
        set.iter().map(|(r, v)| (r, *v)).collect()
    }

    #[test]
    fn page_rounding_matches_definitions_and_detects_overflow() {
        assert_eq!(page_round_down(4097), 4096);
        assert_eq!(page_round_up(4097), Some(8192));
        assert_eq!(page_round_up(8192), Some(8192));
        assert_eq!(page_round_up(0), Some(0));
        assert_eq!(page_round_up(u64::MAX), None);
        assert_eq!(page_round_up(u64::MAX - 4095), Some(u64::MAX - 4095));
        assert!(is_page_aligned(0) && is_page_aligned(12288) && !is_page_aligned(1));
    }

    #[test]
    fn insert_empty_range_is_refused() {
        let mut set = RangeSet::new();
        assert_eq!(
            set.insert(5..5, DirtyInfo { keep: false }),
            Err(RangeSetError::EmptyRange)
        );
        #[expect(
            clippy::reversed_empty_ranges,
            reason = "the inverted range is the case under test"
        )]
        let inverted = 6..5;
        assert_eq!(
            set.insert(inverted, DirtyInfo { keep: false }),
            Err(RangeSetError::EmptyRange)
        );
        assert!(set.is_empty());
    }

    #[test]
    fn insert_overlapping_range_is_refused_and_set_unchanged() {
        let mut set = RangeSet::new();
        set.insert(10..20, FrameRefCount(1)).unwrap();
        let before = set.clone();
        assert_eq!(
            set.insert(19..30, FrameRefCount(2)),
            Err(RangeSetError::Overlaps)
        );
        assert_eq!(
            set.insert(0..11, FrameRefCount(2)),
            Err(RangeSetError::Overlaps)
        );
        assert_eq!(
            set.insert(12..13, FrameRefCount(2)),
            Err(RangeSetError::Overlaps)
        );
        assert_eq!(set, before);
    }

    #[test]
    fn insert_merges_with_both_neighbours() {
        let mut set = RangeSet::new();
        set.insert(0..10, FrameRefCount(1)).unwrap();
        set.insert(20..30, FrameRefCount(1)).unwrap();
        set.insert(10..20, FrameRefCount(1)).unwrap();
        assert_eq!(segments(&set), vec![(0..30, FrameRefCount(1))]);
    }

    #[test]
    fn insert_does_not_merge_unmergeable_neighbours() {
        let mut set = RangeSet::new();
        set.insert(0..10, FrameRefCount(1)).unwrap();
        set.insert(10..20, FrameRefCount(2)).unwrap();
        assert_eq!(set.segment_count(), 2);
    }

    #[test]
    fn remove_in_middle_splits_segment_and_shifts_offsets() {
        let mut cache = FileRangeSet::new();
        cache.insert(0..12288, 40960).unwrap();
        let freed = cache.remove(4096..8192);
        assert_eq!(freed, vec![45056..49152]);
        assert_eq!(
            cache.iter().collect::<Vec<_>>(),
            vec![(0..4096, 40960), (8192..12288, 49152)]
        );
    }

    #[test]
    fn remove_empty_range_removes_nothing() {
        let mut set = RangeSet::new();
        set.insert(0..10, FrameRefCount(1)).unwrap();
        assert!(set.remove(5..5).is_empty());
        assert_eq!(set.segment_count(), 1);
    }

    #[test]
    fn find_and_segments_report_whole_segments() {
        let mut set = RangeSet::new();
        set.insert(10..20, FrameRefCount(1)).unwrap();
        set.insert(30..40, FrameRefCount(2)).unwrap();
        assert_eq!(set.find(10).map(|(r, _)| r), Some(10..20));
        assert_eq!(set.find(20), None);
        assert_eq!(set.find(9), None);
        let hit: Vec<_> = set.segments(15..31).map(|(r, _)| r).collect();
        assert_eq!(hit, vec![10..20, 30..40]);
        assert_eq!(set.segments(20..30).count(), 0);
        assert_eq!(set.segments(15..15).count(), 0);
    }

    #[test]
    fn gaps_are_clipped_to_the_query() {
        let mut set = RangeSet::new();
        set.insert(10..20, FrameRefCount(1)).unwrap();
        set.insert(30..40, FrameRefCount(2)).unwrap();
        let gaps: Vec<_> = set.gaps(0..50).collect();
        assert_eq!(gaps, vec![0..10, 20..30, 40..50]);
        let gaps: Vec<_> = set.gaps(15..35).collect();
        assert_eq!(gaps, vec![20..30]);
        assert_eq!(set.gaps(12..18).count(), 0);
        assert_eq!(set.gaps(7..7).count(), 0);
        assert!(set.covers(30..40) && !set.covers(30..41));
    }

    #[test]
    fn gaps_reach_u64_max() {
        let mut set = RangeSet::new();
        set.insert(0..10, FrameRefCount(1)).unwrap();
        assert_eq!(
            set.gaps(0..u64::MAX).collect::<Vec<_>>(),
            vec![10..u64::MAX]
        );
    }

    #[test]
    fn file_range_set_merges_only_contiguous_memory() {
        let mut cache = FileRangeSet::new();
        cache.insert(0..4096, 0).unwrap();
        cache.insert(4096..8192, 8192).unwrap();
        assert_eq!(cache.as_set().segment_count(), 2);
        cache.insert(8192..12288, 12288).unwrap();
        assert_eq!(
            cache.iter().collect::<Vec<_>>(),
            vec![(0..4096, 0), (4096..12288, 8192)]
        );
    }

    #[test]
    fn file_range_set_translate_and_memory_offset() {
        let mut cache = FileRangeSet::new();
        cache.insert(4096..12288, 65536).unwrap();
        assert_eq!(cache.memory_offset(5000), Some(65536 + 904));
        assert_eq!(cache.memory_offset(100), None);
        let pieces: Vec<_> = cache.translate(0..8192).collect();
        assert_eq!(pieces, vec![(4096..8192, 65536..69632)]);
        assert_eq!(
            cache.gaps(0..16384).collect::<Vec<_>>(),
            vec![0..4096, 12288..16384]
        );
    }

    #[test]
    fn file_range_set_insert_past_memory_end_is_eoverflow() {
        let mut cache = FileRangeSet::new();
        assert_eq!(
            cache.insert(0..8192, u64::MAX - 4095),
            Err(Errno::EOVERFLOW)
        );
    }

    #[test]
    fn file_range_set_truncate_keeps_partial_page() {
        let mut cache = FileRangeSet::new();
        cache.insert(0..16384, 0).unwrap();
        let freed = cache.truncate(5000);
        assert_eq!(freed, vec![8192..16384]);
        assert_eq!(cache.iter().collect::<Vec<_>>(), vec![(0..8192, 0)]);
        assert!(cache.truncate(u64::MAX).is_empty());
    }

    #[test]
    fn dirty_set_mark_clean_spares_kept_ranges() {
        let mut dirty = DirtySet::new();
        dirty.mark_dirty(0..100);
        dirty.keep_dirty(40..60);
        dirty.mark_clean(0..100);
        assert_eq!(dirty.dirty_ranges(0..100).collect::<Vec<_>>(), vec![40..60]);

        dirty.allow_clean(0..100);
        dirty.mark_clean(0..100);
        assert_eq!(dirty.dirty_ranges(0..100).count(), 0);
    }

    #[test]
    fn dirty_set_mark_dirty_preserves_keep_and_merges() {
        let mut dirty = DirtySet::new();
        dirty.keep_dirty(10..20);
        dirty.mark_dirty(0..30);
        assert_eq!(
            segments(dirty.as_set()),
            vec![
                (0..10, DirtyInfo { keep: false }),
                (10..20, DirtyInfo { keep: true }),
                (20..30, DirtyInfo { keep: false }),
            ]
        );
        dirty.allow_clean(0..30);
        assert_eq!(
            segments(dirty.as_set()),
            vec![(0..30, DirtyInfo { keep: false })]
        );
        assert!(dirty.is_dirty(29) && !dirty.is_dirty(30));
    }

    #[test]
    fn dirty_set_partial_clean_splits() {
        let mut dirty = DirtySet::new();
        dirty.mark_dirty(0..100);
        dirty.mark_clean(30..60);
        assert_eq!(
            dirty.dirty_ranges(0..100).collect::<Vec<_>>(),
            vec![0..30, 60..100]
        );
        assert_eq!(
            dirty.dirty_ranges(20..70).collect::<Vec<_>>(),
            vec![20..30, 60..70]
        );
    }

    #[test]
    fn frame_refs_overlapping_inc_splits_and_dec_merges_back() {
        let mut refs = FrameRefSet::new();
        refs.inc_ref(0..300).unwrap();
        refs.inc_ref(100..200).unwrap();
        assert_eq!(
            refs.iter().collect::<Vec<_>>(),
            vec![(0..100, 1), (100..200, 2), (200..300, 1)]
        );

        assert_eq!(refs.dec_ref(100..200).unwrap(), Vec::<Range<u64>>::new());
        assert_eq!(refs.iter().collect::<Vec<_>>(), vec![(0..300, 1)]);
        assert_eq!(refs.dec_ref(0..300).unwrap(), vec![0..300]);
        assert_eq!(refs.referenced_bytes(), 0);
    }

    #[test]
    fn frame_refs_dec_of_unreferenced_range_is_einval_and_changes_nothing() {
        let mut refs = FrameRefSet::new();
        refs.inc_ref(0..100).unwrap();
        let before = refs.clone();
        assert_eq!(refs.dec_ref(50..150), Err(Errno::EINVAL));
        assert_eq!(refs, before);
    }

    #[test]
    fn frame_refs_overflow_is_eoverflow() {
        let mut refs = FrameRefSet::new();
        refs.set.insert(0..10, FrameRefCount(u64::MAX)).unwrap();
        assert_eq!(refs.inc_ref(5..20), Err(Errno::EOVERFLOW));
        assert_eq!(refs.ref_count(15), 0);
    }

    /// A deterministic xorshift64 generator for the differential tests.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn range(&mut self, n: u64) -> Range<u64> {
            let a = self.below(n + 1);
            let b = self.below(n + 1);
            a.min(b)..a.max(b)
        }
    }

    const UNITS: u64 = 96;

    /// Checks the structural invariants: ordered, non-empty, non-overlapping
    /// segments, with no mergeable neighbours left unmerged.
    fn check_invariants<V: SegmentValue>(set: &RangeSet<V>) {
        let mut prev: Option<(Range<u64>, &V)> = None;
        for (range, value) in set.iter() {
            assert!(range.start < range.end);
            if let Some((p, pv)) = prev {
                assert!(p.end <= range.start);
                if p.end == range.start {
                    assert!(pv.merge(p.clone(), value, range.clone()).is_none());
                }
            }
            prev = Some((range, value));
        }
    }

    #[test]
    fn file_range_set_matches_bitmap_model() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut cache = FileRangeSet::new();
        // The model: per file unit, the memory offset caching it.
        let mut model: Vec<Option<u64>> = vec![None; UNITS as usize];
        for _ in 0..4000 {
            let r = rng.range(UNITS);
            if rng.below(2) == 0 {
                // Memory offsets chosen so that contiguity happens often.
                let mem = rng.below(4) * 16 + r.start;
                let overlaps = r.clone().any(|u| model[u as usize].is_some());
                let result = cache.insert(r.clone(), mem);
                if r.is_empty() || overlaps {
                    assert_eq!(result, Err(Errno::EINVAL));
                } else {
                    result.unwrap();
                    for u in r.clone() {
                        model[u as usize] = Some(mem + (u - r.start));
                    }
                }
            } else {
                let mut freed: Vec<u64> = cache.remove(r.clone()).into_iter().flatten().collect();
                let mut expected: Vec<u64> =
                    r.clone().filter_map(|u| model[u as usize].take()).collect();
                freed.sort_unstable();
                expected.sort_unstable();
                assert_eq!(freed, expected);
            }
            check_invariants(cache.as_set());
            for u in 0..UNITS {
                assert_eq!(cache.memory_offset(u), model[u as usize]);
            }
            let q = rng.range(UNITS);
            let gap_units: Vec<u64> = cache.gaps(q.clone()).flatten().collect();
            let model_gaps: Vec<u64> = q.filter(|u| model[*u as usize].is_none()).collect();
            assert_eq!(gap_units, model_gaps);
        }
    }

    #[test]
    fn frame_ref_set_matches_counter_model() {
        let mut rng = XorShift(0x0123_4567_89ab_cdef);
        let mut refs = FrameRefSet::new();
        let mut model = vec![0u64; UNITS as usize];
        for _ in 0..4000 {
            let r = rng.range(UNITS);
            if rng.below(2) == 0 {
                refs.inc_ref(r.clone()).unwrap();
                for u in r {
                    model[u as usize] += 1;
                }
            } else {
                let result = refs.dec_ref(r.clone());
                if r.clone().any(|u| model[u as usize] == 0) {
                    assert_eq!(result, Err(Errno::EINVAL));
                } else {
                    let freed: Vec<u64> = result.unwrap().into_iter().flatten().collect();
                    for u in r.clone() {
                        model[u as usize] -= 1;
                    }
                    let expected: Vec<u64> = r.filter(|u| model[*u as usize] == 0).collect();
                    assert_eq!(freed, expected);
                }
            }
            check_invariants(refs.as_set());
            for u in 0..UNITS {
                assert_eq!(refs.ref_count(u), model[u as usize]);
            }
        }
    }

    #[test]
    fn dirty_set_matches_flag_model() {
        let mut rng = XorShift(0xdead_beef_cafe_f00d);
        let mut dirty = DirtySet::new();
        // The model: None = clean, Some(keep).
        let mut model: Vec<Option<bool>> = vec![None; UNITS as usize];
        for _ in 0..4000 {
            let r = rng.range(UNITS);
            match rng.below(4) {
                0 => {
                    dirty.mark_dirty(r.clone());
                    for u in r {
                        model[u as usize].get_or_insert(false);
                    }
                }
                1 => {
                    dirty.keep_dirty(r.clone());
                    for u in r {
                        model[u as usize] = Some(true);
                    }
                }
                2 => {
                    dirty.allow_clean(r.clone());
                    for u in r {
                        if let Some(keep) = &mut model[u as usize] {
                            *keep = false;
                        }
                    }
                }
                _ => {
                    dirty.mark_clean(r.clone());
                    for u in r {
                        if model[u as usize] == Some(false) {
                            model[u as usize] = None;
                        }
                    }
                }
            }
            check_invariants(dirty.as_set());
            for u in 0..UNITS {
                let got = dirty.as_set().find(u).map(|(_, info)| info.keep);
                assert_eq!(got, model[u as usize]);
            }
        }
    }
}
